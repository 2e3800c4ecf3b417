// AVX2 row decoders for the formats whose decoding showed in the prompt path's
// profile (bench/llamacpp_bench.cpp, `lmpack eval` of 7B-shaped files: the
// scalar decoders took 8-11% of the time, the rest being the sgemm): BF16,
// Q8_0, Q4_K and Q6_K. Each gives its scalar reference's floats bit for bit:
// the same products in the same order (the formats library is built without
// FMA contraction), per-sub-block factors computed as the scalar does.
#include <immintrin.h>

#include <cstring>

#include "core/dtype.h"
#include "formats/bf16.h"
#include "formats/k_quant_simd_common.h"
#include "formats/q4_k.h"
#include "formats/q6_k.h"
#include "formats/q8_0.h"

namespace lmpack {
namespace {

// 8 int8 -> 8 floats times f.
inline __m256 scaled_i8x8(__m128i q8, __m256 f) { return _mm256_mul_ps(f, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8))); }

// 32 int8 in v -> y[0..32) = f_lo * q for the first 16, f_hi * q for the rest.
inline void store_scaled_i8x32(float* y, __m256i v, float f_lo, float f_hi) {
  const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
  const __m256 a = _mm256_set1_ps(f_lo), b = _mm256_set1_ps(f_hi);
  _mm256_storeu_ps(y, scaled_i8x8(lo, a));
  _mm256_storeu_ps(y + 8, scaled_i8x8(_mm_srli_si128(lo, 8), a));
  _mm256_storeu_ps(y + 16, scaled_i8x8(hi, b));
  _mm256_storeu_ps(y + 24, scaled_i8x8(_mm_srli_si128(hi, 8), b));
}

}  // namespace

void dequantize_row_bf16_avx2(float* out, const void* in, int64_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(in);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i)));
    _mm256_storeu_ps(out + i, _mm256_castsi256_ps(_mm256_slli_epi32(h, 16)));
  }
  for (; i < n; ++i) {
    uint16_t b;
    std::memcpy(&b, p + 2 * i, 2);
    out[i] = bf16_to_f32(b);
  }
}

void dequantize_row_q8_0_avx2(float* out, const void* in, int64_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(in);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint8_t* blk = p + b * sizeof(BlockQ8_0);
    uint16_t d;
    std::memcpy(&d, blk + offsetof(BlockQ8_0, d), 2);
    const float df = fp16_to_f32(d);
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(BlockQ8_0, qs)));
    store_scaled_i8x32(out + b * kQK, q, df, df);
  }
}

void dequantize_row_q4_k_avx2(float* out, const void* in, int64_t n) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    BlockQ4_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ4_K), sizeof blk);
    const float d = fp16_to_f32(blk.d), dmin = fp16_to_f32(blk.dmin);
    alignas(16) uint8_t sm[16];  // the 8 scales, then the 8 mins
    _mm_store_si128(reinterpret_cast<__m128i*>(sm), unpack_scales_mins_k4(blk.scales));
    float* y = out + b * kQK_K;
    for (int c = 0; c < 4; ++c) {  // 64 values: sub-block 2c in the low nibbles, 2c + 1 in the high
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * c));
      const __m256i nib[2] = {_mm256_and_si256(q, low4), _mm256_and_si256(_mm256_srli_epi16(q, 4), low4)};
      for (int h = 0; h < 2; ++h) {
        const int s = 2 * c + h;
        const __m256 ds = _mm256_set1_ps(d * sm[s]), ms = _mm256_set1_ps(dmin * sm[8 + s]);
        float* ys = y + 32 * s;
        const __m128i lo = _mm256_castsi256_si128(nib[h]), hi = _mm256_extracti128_si256(nib[h], 1);
        const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
        for (int k = 0; k < 4; ++k) {
          const __m256 l = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k]));
          _mm256_storeu_ps(ys + 8 * k, _mm256_sub_ps(_mm256_mul_ps(ds, l), ms));
        }
      }
    }
  }
}

void dequantize_row_q6_k_avx2(float* out, const void* in, int64_t n) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), low2 = _mm256_set1_epi8(0x03), bias = _mm256_set1_epi8(32);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    BlockQ6_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ6_K), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    for (int h = 0; h < 2; ++h) {
      const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 64 * h));
      const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h));
      auto high = [&](int shift) { return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), low2), 4); };
      // Values l, l + 32, l + 64, l + 96 of this half (l < 32), as the scalar decoder's q0..q3.
      const __m256i q[4] = {
          _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(qa, low4), high(0)), bias),
          _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(qb, low4), high(2)), bias),
          _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), low4), high(4)), bias),
          _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 4), low4), high(6)), bias)};
      const int8_t* sc = blk.scales + 8 * h;
      float* yh = out + b * kQK_K + 128 * h;
      for (int k = 0; k < 4; ++k)
        store_scaled_i8x32(yh + 32 * k, q[k], d * static_cast<float>(sc[2 * k]), d * static_cast<float>(sc[2 * k + 1]));
    }
  }
}

}  // namespace lmpack
