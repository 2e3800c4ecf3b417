// AVX2 building blocks of the 32-element block dot products, shared by the
// *_avx2.cpp and *_avx512.cpp kernel files (both compile with AVX2 enabled).
// Include only from those files. Everything here has internal linkage on
// purpose: one inline definition compiled with AVX-512 flags must never be
// picked by the linker for the AVX2 path.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace lmpack {
namespace {

inline float load_fp16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// 16 bytes of nibble pairs -> 32 bytes: low nibbles (elements 0..15), then
// high nibbles (elements 16..31), each 0..15.
inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(v, 4), v);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// Bit i of h -> byte i = 0xFF if set, 0x00 if not (i = 0..31).
inline __m256i bits_to_bytes(uint32_t h) {
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(h)),
      _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3,
                       3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// Unsigned bytes x (0..255, here <= 31) times signed bytes y, summed in
// groups of 4 adjacent products -> 8 int32. No saturation for x <= 128.
inline __m256i dot_u8_i8(__m256i x, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}

// Signed bytes x times signed bytes y (|x|, |y| <= 127), groups of 4 -> 8 int32.
inline __m256i dot_i8_i8(__m256i x, __m256i y) {
  return dot_u8_i8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// The 32 quants of one block of each weight format as signed (or, for the
// _1 formats, unsigned) bytes. p points at the block.
inline __m256i quants_q4_0(const uint8_t* p) { return _mm256_sub_epi8(unpack_nibbles(p + 2), _mm256_set1_epi8(8)); }
inline __m256i quants_q4_1(const uint8_t* p) { return unpack_nibbles(p + 4); }
inline __m256i quants_q5_0(const uint8_t* p) {
  // value - 16 as int8: the nibble with bits 4..7 set where the fifth bit is 0.
  const __m256i high = _mm256_andnot_si256(bits_to_bytes(load_u32(p + 2)), _mm256_set1_epi8(static_cast<char>(0xF0)));
  return _mm256_or_si256(unpack_nibbles(p + 6), high);
}
inline __m256i quants_q5_1(const uint8_t* p) {
  const __m256i high = _mm256_and_si256(bits_to_bytes(load_u32(p + 4)), _mm256_set1_epi8(0x10));
  return _mm256_or_si256(unpack_nibbles(p + 8), high);
}
inline __m256i quants_q8(const uint8_t* qs) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs)); }
inline __m256i quants_iq4_nl(const uint8_t* p, __m256i table) { return _mm256_shuffle_epi8(table, unpack_nibbles(p + 2)); }

}  // namespace
}  // namespace lmpack
