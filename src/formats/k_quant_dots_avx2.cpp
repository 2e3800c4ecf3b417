// AVX2 dot products of the k-quants with Q8_K activations (declared in
// formats/k_quant_dots.h). Per super-block the quants are widened to
// unsigned bytes in element order, multiplied with the int8 activations by
// maddubs (pairs of u8 * s8 into int16; at most 2 * 63 * 127 = 16002, so
// never saturating), weighted by the sub-block scales with madd (int32) and
// summed exactly. Signed offsets (Q3_K's -4, Q6_K's -32) and Q2_K's mins are
// applied through the Q8_K bsums. The float step is k_dot_block_term, as in
// the scalar reference. Built with -mavx2 -mfma -mf16c (CMake, *_avx2.cpp).
#include <immintrin.h>

#include "formats/k_quant_dots.h"
#include "formats/k_quant_simd_common.h"
#include "formats/q2_k.h"
#include "formats/q3_k.h"
#include "formats/q4_k.h"
#include "formats/q5_k.h"
#include "formats/q6_k.h"
#include "formats/q8_k.h"

namespace lmpack {

namespace {

// For 8 int16 scales s16 of a 128-value half (sub-blocks of 16), the scale
// vector of the 32 values 32k .. 32k + 31: int16 lanes 0..7 (values 0..15)
// take scale 2k, lanes 8..15 take scale 2k + 1.
inline __m256i scale_pair(__m256i s16_both_lanes, int k) {
  const short lo = static_cast<short>((4 * k + 1) << 8 | (4 * k));      // int16 element 2k
  const short hi = static_cast<short>((4 * k + 3) << 8 | (4 * k + 2));  // int16 element 2k + 1
  const __m256i ctrl = _mm256_set_m128i(_mm_set1_epi16(hi), _mm_set1_epi16(lo));
  return _mm256_shuffle_epi8(s16_both_lanes, ctrl);
}

// Shuffle control repeating int16 element e of each 128-bit lane.
inline __m256i pick_i16(int e) {
  const short v = static_cast<short>((2 * e + 1) << 8 | (2 * e));
  return _mm256_set1_epi16(v);
}

// 8 signed int8 scales -> int16 in both 128-bit lanes.
inline __m256i scales8_i16(const int8_t* s) {
  const __m128i v = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s)));
  return _mm256_broadcastsi128_si256(v);
}

}  // namespace

float dot_q4_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256i pick[8];
  for (int e = 0; e < 8; ++e) pick[e] = pick_i16(e);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i sm = unpack_scales_mins_k4(x[b].scales);
    const int32_t msum = mins_dot_bsums(sm, y[b].bsums);
    const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));  // scales as int16
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i q4 = load32(x[b].qs + 32 * c);
      const __m256i lo = _mm256_maddubs_epi16(_mm256_and_si256(q4, m4), load32(y[b].qs + 64 * c));
      const __m256i hi = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4),
                                              load32(y[b].qs + 64 * c + 32));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(lo, _mm256_shuffle_epi8(sc16, pick[2 * c])));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(hi, _mm256_shuffle_epi8(sc16, pick[2 * c + 1])));
    }
    sum += k_dot_block_term(y[b].d * half(x[b].d), hsum_i32(acc), y[b].d * half(x[b].dmin), msum);
  }
  return sum;
}

float dot_q5_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const BlockQ5_K* x = static_cast<const BlockQ5_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i one = _mm256_set1_epi8(1);
  __m256i pick[8];
  for (int e = 0; e < 8; ++e) pick[e] = pick_i16(e);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i sm = unpack_scales_mins_k4(x[b].scales);
    const int32_t msum = mins_dot_bsums(sm, y[b].bsums);
    const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));  // scales as int16
    __m256i hb = load32(x[b].qh);  // shifted right by 2 per chunk
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i q4 = load32(x[b].qs + 32 * c);
      const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(hb, one), 4);
      const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 1), one), 4);
      const __m256i q0 = _mm256_or_si256(_mm256_and_si256(q4, m4), h0);
      const __m256i q1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4), h1);
      const __m256i lo = _mm256_maddubs_epi16(q0, load32(y[b].qs + 64 * c));
      const __m256i hi = _mm256_maddubs_epi16(q1, load32(y[b].qs + 64 * c + 32));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(lo, _mm256_shuffle_epi8(sc16, pick[2 * c])));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(hi, _mm256_shuffle_epi8(sc16, pick[2 * c + 1])));
      hb = _mm256_srli_epi16(hb, 2);
    }
    sum += k_dot_block_term(y[b].d * half(x[b].d), hsum_i32(acc), y[b].d * half(x[b].dmin), msum);
  }
  return sum;
}

float dot_q6_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m3 = _mm256_set1_epi8(3);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load32(x[b].ql + 64 * h);
      const __m256i ql1 = load32(x[b].ql + 64 * h + 32);
      const __m256i qh = load32(x[b].qh + 32 * h);
      const int8_t* q8 = y[b].qs + 128 * h;
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
      const __m256i s16 = scales8_i16(x[b].scales + 8 * h);
      for (int k = 0; k < 4; ++k) {
        const __m256i p = _mm256_maddubs_epi16(q[k], load32(q8 + 32 * k));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scale_pair(s16, k)));
      }
    }
    const int32_t isum = hsum_i32(acc) - 32 * scaled_bsums(load16(x[b].scales), y[b].bsums);
    sum += k_dot_block_term(y[b].d * half(x[b].d), isum, 0.0f, 0);
  }
  return sum;
}

float dot_q3_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const BlockQ3_K* x = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m256i one = _mm256_set1_epi8(1);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i sc = unpack_scales_q3(x[b].scales);
    const __m256i sc16[2] = {_mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(sc)),
                            _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_srli_si128(sc, 8)))};
    __m256i hm = load32(x[b].hmask);  // shifted right by 1 per group of 32
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      __m256i qs = load32(x[b].qs + 32 * h);  // shifted right by 2 per group
      const __m256i s16 = sc16[h];
      for (int p = 0; p < 4; ++p) {
        const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(hm, one), 2);
        const __m256i q = _mm256_or_si256(_mm256_and_si256(qs, m3), hi);  // 0..7 = value + 4
        const __m256i prod = _mm256_maddubs_epi16(q, load32(y[b].qs + 128 * h + 32 * p));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(prod, scale_pair(s16, p)));
        qs = _mm256_srli_epi16(qs, 2);
        hm = _mm256_srli_epi16(hm, 1);
      }
    }
    const int32_t isum = hsum_i32(acc) - 4 * scaled_bsums(sc, y[b].bsums);
    sum += k_dot_block_term(y[b].d * half(x[b].d), isum, 0.0f, 0);
  }
  return sum;
}

float dot_q2_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const BlockQ2_K* x = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m128i m4 = _mm_set1_epi8(0x0F);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i packed = load16(x[b].scales);
    const int32_t msum = q2_mins_dot_bsums(packed, y[b].bsums);
    const __m128i scales = _mm_and_si128(packed, m4);
    // Scales of sub-blocks 0..7 (first half) and 8..15 as int16, in both lanes.
    const __m256i s16[2] = {_mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scales)),
                            _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_srli_si128(scales, 8)))};
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      __m256i qs = load32(x[b].qs + 32 * h);
      const __m256i sv = s16[h];
      for (int p = 0; p < 4; ++p) {
        const __m256i prod = _mm256_maddubs_epi16(_mm256_and_si256(qs, m3), load32(y[b].qs + 128 * h + 32 * p));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(prod, scale_pair(sv, p)));
        qs = _mm256_srli_epi16(qs, 2);
      }
    }
    sum += k_dot_block_term(y[b].d * half(x[b].d), hsum_i32(acc), y[b].d * half(x[b].dmin), msum);
  }
  return sum;
}

}  // namespace lmpack
