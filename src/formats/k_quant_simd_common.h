// Building blocks shared by the k-quant SIMD dot files k_quant_dots_avx2.cpp
// and k_quant_dots_avx512.cpp (both compile with AVX2 enabled): unpacking of
// the 12-byte Q3_K/Q4_K/Q5_K scale fields into vectors, the exact integer
// sums with the Q8_K bsums, and small loads. Include only from SIMD files
// built with AVX2 (those two, formats/dequantize_avx2.cpp).
// Everything here has internal linkage on purpose (anonymous namespace; see
// DEVELOPERS.md "SIMD files"): one inline definition compiled with AVX-512
// flags must never be picked by the linker for a lesser CPU's path.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace lmpack {
namespace {

// Q4_K/Q5_K scales[12] -> 16 bytes: the 8 scales, then the 8 mins
// (the layout of unpack_scale_min_k4, four sub-blocks per 32-bit word).
inline __m128i unpack_scales_mins_k4(const uint8_t* s12) {
  uint32_t w[3], o[4];
  std::memcpy(w, s12, 12);
  o[0] = w[0] & 0x3f3f3f3fu;                                              // scales 0..3
  o[1] = (w[2] & 0x0f0f0f0fu) | (((w[0] >> 6) & 0x03030303u) << 4);      // scales 4..7
  o[2] = w[1] & 0x3f3f3f3fu;                                              // mins 0..3
  o[3] = ((w[2] >> 4) & 0x0f0f0f0fu) | (((w[1] >> 6) & 0x03030303u) << 4);  // mins 4..7
  // Built in registers: four narrow stores read back by one wide load would
  // stall on store forwarding.
  return _mm_set_epi32(static_cast<int>(o[3]), static_cast<int>(o[2]), static_cast<int>(o[1]),
                       static_cast<int>(o[0]));
}

// Q3_K scales[12] -> the 16 signed scales S[s] - 32 as int8 (the layout of
// unpack_scales_q3_k).
inline __m128i unpack_scales_q3(const uint8_t* s12) {
  uint32_t w[3];
  std::memcpy(w, s12, 12);
  const uint32_t o0 = (w[0] & 0x0f0f0f0fu) | ((w[2] & 0x03030303u) << 4);
  const uint32_t o1 = (w[1] & 0x0f0f0f0fu) | (((w[2] >> 2) & 0x03030303u) << 4);
  const uint32_t o2 = ((w[0] >> 4) & 0x0f0f0f0fu) | (((w[2] >> 4) & 0x03030303u) << 4);
  const uint32_t o3 = ((w[1] >> 4) & 0x0f0f0f0fu) | (((w[2] >> 6) & 0x03030303u) << 4);
  const __m128i v = _mm_set_epi32(static_cast<int>(o3), static_cast<int>(o2), static_cast<int>(o1),
                                  static_cast<int>(o0));
  return _mm_sub_epi8(v, _mm_set1_epi8(32));
}

// sum_j min[j] * (bsums[2j] + bsums[2j + 1]) for the 8 mins in bytes 8..15.
inline int32_t mins_dot_bsums(__m128i scales_mins, const int16_t* bsums) {
  const __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(scales_mins, 8));
  const __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums)),
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums + 8)));
  __m128i s = _mm_madd_epi16(mins, pairs);
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// Exact sum of the 8 int32 lanes.
inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

inline float half(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

inline __m128i load16(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// sum_s scale[s] * bsums[s] over the 16 sub-blocks (scales as int8).
inline int32_t scaled_bsums(__m128i scale_i8, const int16_t* bsums) {
  const __m256i s = _mm256_cvtepi8_epi16(scale_i8);
  return hsum_i32(_mm256_madd_epi16(s, load32(bsums)));
}

// Q2_K: sum_s min[s] * bsums[s] over the 16 sub-blocks, the mins being the
// high nibbles of the 16 packed scale bytes.
inline int32_t q2_mins_dot_bsums(__m128i packed, const int16_t* bsums) {
  const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F)));
  return hsum_i32(_mm256_madd_epi16(mins, load32(bsums)));
}

}  // namespace
}  // namespace lmpack
