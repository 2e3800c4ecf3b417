// AVX-512 (F, BW, VL, DQ; no VNNI needed) dot products of the k-quants with
// Q8_K activations (declared in formats/k_quant_dots.h). The AVX2 scheme at
// 64 values per step. Q4_K/Q5_K load 64 bytes of nibbles (two 64-value
// chunks) and pair each nibble half with the matching activations gathered
// from two 32-byte loads. Q2_K/Q3_K/Q6_K broadcast 32 packed bytes to both
// 256-bit halves and shift each half by its own amount (srlv), which lays
// two 32-value groups out in element order for one 64-byte activation load.
// Then maddubs, madd with a per-sub-block scale vector made by one in-lane
// shuffle, exact int32 sums per super-block and k_dot_block_term, as in the
// scalar reference. On AMD Zen 4 (512-bit ops split in two) these run at
// about the AVX2 speed; see bench/kquants_bench.cpp.
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_* inside inlined
// intrinsics; the values are fully written before use.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)  // GCC's name; clang has no such group and warns about the pragma
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

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

inline __m512i load64(const void* p) { return _mm512_loadu_si512(p); }

// The 32 bytes at p in both 256-bit halves.
inline __m512i load32_twice(const void* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(static_cast<const __m256i*>(p)));
}

// The 32 bytes at lo in the lower 256-bit half, the 32 at hi in the upper.
inline __m512i two_halves(const void* lo, const void* hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(static_cast<const __m256i*>(lo))),
                            _mm256_loadu_si256(static_cast<const __m256i*>(hi)), 1);
}

// int16 lanes 0..15 = a, lanes 16..31 = b.
inline __m512i halves_epi16(int a, int b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(static_cast<short>(a))),
                            _mm256_set1_epi16(static_cast<short>(b)), 1);
}

// Shuffle control picking, in 128-bit lane L (L = 0..3), the int16 element
// first + L * step of that lane, repeated 8 times.
inline __m512i lane_pick(int first, int step) {
  alignas(64) int8_t c[64];
  for (int lane = 0; lane < 4; ++lane)
    for (int i = 0; i < 8; ++i) {
      c[16 * lane + 2 * i] = static_cast<int8_t>(2 * (first + lane * step));
      c[16 * lane + 2 * i + 1] = static_cast<int8_t>(2 * (first + lane * step) + 1);
    }
  return _mm512_load_si512(c);
}

// Shuffle control picking int16 element a in 128-bit lanes 0-1 and b in
// lanes 2-3 (a 64-value group of two 32-value sub-blocks).
inline __m512i lane_pick2(int a, int b) {
  const short va = static_cast<short>((2 * a + 1) << 8 | (2 * a));
  const short vb = static_cast<short>((2 * b + 1) << 8 | (2 * b));
  return halves_epi16(va, vb);
}

// 8 int16 scales (one per 16 values of a 128-value half) in every lane.
inline __m512i scales8_i16(const int8_t* s) {
  return _mm512_broadcast_i32x4(_mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s))));
}

}  // namespace

float dot_q4_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  // Sub-block scales of the low / high nibbles of chunks (0, 1) and (2, 3).
  const __m512i pick_lo[2] = {lane_pick2(0, 2), lane_pick2(4, 6)};
  const __m512i pick_hi[2] = {lane_pick2(1, 3), lane_pick2(5, 7)};
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i sm = unpack_scales_mins_k4(x[b].scales);
    const int32_t msum = mins_dot_bsums(sm, y[b].bsums);
    const __m512i sc16 = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sm));  // scales as int16
    __m512i acc = _mm512_setzero_si512();
    for (int g = 0; g < 2; ++g) {
      // Two chunks of 64 values: low nibbles are values 128g + 0..31 and
      // 128g + 64..95, high nibbles 128g + 32..63 and 128g + 96..127.
      const __m512i q4 = load64(x[b].qs + 64 * g);
      const int8_t* q8 = y[b].qs + 128 * g;
      const __m512i a_lo = two_halves(q8, q8 + 64);
      const __m512i a_hi = two_halves(q8 + 32, q8 + 96);
      const __m512i p_lo = _mm512_maddubs_epi16(_mm512_and_si512(q4, m4), a_lo);
      const __m512i p_hi = _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srli_epi16(q4, 4), m4), a_hi);
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(p_lo, _mm512_shuffle_epi8(sc16, pick_lo[g])));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(p_hi, _mm512_shuffle_epi8(sc16, pick_hi[g])));
    }
    sum += k_dot_block_term(y[b].d * half(x[b].d), _mm512_reduce_add_epi32(acc), y[b].d * half(x[b].dmin), msum);
  }
  return sum;
}

float dot_q5_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const BlockQ5_K* x = static_cast<const BlockQ5_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i one = _mm512_set1_epi8(1);
  const __m512i pick_lo[2] = {lane_pick2(0, 2), lane_pick2(4, 6)};
  const __m512i pick_hi[2] = {lane_pick2(1, 3), lane_pick2(5, 7)};
  // qh bit of value 64c + l is 2c (low nibble) or 2c + 1 (high nibble).
  const __m512i shift_lo[2] = {halves_epi16(0, 2), halves_epi16(4, 6)};
  const __m512i shift_hi[2] = {halves_epi16(1, 3), halves_epi16(5, 7)};
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i sm = unpack_scales_mins_k4(x[b].scales);
    const int32_t msum = mins_dot_bsums(sm, y[b].bsums);
    const __m512i sc16 = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sm));  // scales as int16
    const __m512i qh = load32_twice(x[b].qh);
    __m512i acc = _mm512_setzero_si512();
    for (int g = 0; g < 2; ++g) {  // chunks 2g and 2g + 1, as in the Q4_K variant
      const __m512i q4 = load64(x[b].qs + 64 * g);
      const int8_t* q8 = y[b].qs + 128 * g;
      const __m512i h_lo = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_lo[g]), one), 4);
      const __m512i h_hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_hi[g]), one), 4);
      const __m512i q_lo = _mm512_or_si512(_mm512_and_si512(q4, m4), h_lo);
      const __m512i q_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(q4, 4), m4), h_hi);
      const __m512i p_lo = _mm512_maddubs_epi16(q_lo, two_halves(q8, q8 + 64));
      const __m512i p_hi = _mm512_maddubs_epi16(q_hi, two_halves(q8 + 32, q8 + 96));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(p_lo, _mm512_shuffle_epi8(sc16, pick_lo[g])));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(p_hi, _mm512_shuffle_epi8(sc16, pick_hi[g])));
    }
    sum += k_dot_block_term(y[b].d * half(x[b].d), _mm512_reduce_add_epi32(acc), y[b].d * half(x[b].dmin), msum);
  }
  return sum;
}

float dot_q6_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i m3 = _mm512_set1_epi8(3);
  const __m512i shift_a = halves_epi16(0, 2);
  const __m512i shift_b = halves_epi16(4, 6);
  const __m512i pick_a = lane_pick(0, 1);  // sub-blocks 0..3 of the half
  const __m512i pick_b = lane_pick(4, 1);  // sub-blocks 4..7
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    __m512i acc = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = load64(x[b].ql + 64 * h);  // [ql0 | ql1]
      const __m512i qh = load32_twice(x[b].qh + 32 * h);
      // Values 128h + 0..63: low nibbles with qh bits 0-1 / 2-3.
      const __m512i qa = _mm512_or_si512(_mm512_and_si512(ql, m4),
                                         _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_a), m3), 4));
      // Values 128h + 64..127: high nibbles with qh bits 4-5 / 6-7.
      const __m512i qb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                         _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_b), m3), 4));
      const __m512i s16 = scales8_i16(x[b].scales + 8 * h);
      const __m512i pa = _mm512_maddubs_epi16(qa, load64(y[b].qs + 128 * h));
      const __m512i pb = _mm512_maddubs_epi16(qb, load64(y[b].qs + 128 * h + 64));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(pa, _mm512_shuffle_epi8(s16, pick_a)));
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(pb, _mm512_shuffle_epi8(s16, pick_b)));
    }
    const int32_t isum = _mm512_reduce_add_epi32(acc) - 32 * scaled_bsums(load16(x[b].scales), y[b].bsums);
    sum += k_dot_block_term(y[b].d * half(x[b].d), isum, 0.0f, 0);
  }
  return sum;
}

float dot_q3_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const BlockQ3_K* x = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m512i m3 = _mm512_set1_epi8(3);
  const __m512i one = _mm512_set1_epi8(1);
  const __m512i pick[2] = {lane_pick(0, 1), lane_pick(4, 1)};
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i sc = unpack_scales_q3(x[b].scales);
    const __m512i sc16[2] = {_mm512_broadcast_i32x4(_mm_cvtepi8_epi16(sc)),
                            _mm512_broadcast_i32x4(_mm_cvtepi8_epi16(_mm_srli_si128(sc, 8)))};
    const __m512i hm_all = load32_twice(x[b].hmask);
    __m512i acc = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m512i qs_all = load32_twice(x[b].qs + 32 * h);
      const __m512i s16 = sc16[h];
      for (int g = 0; g < 2; ++g) {  // values 128h + 64g .. +63: groups p = 2g, 2g + 1
        const int p = 2 * g;
        const __m512i low = _mm512_and_si512(_mm512_srlv_epi16(qs_all, halves_epi16(2 * p, 2 * p + 2)), m3);
        const __m512i hi =
            _mm512_and_si512(_mm512_srlv_epi16(hm_all, halves_epi16(4 * h + p, 4 * h + p + 1)), one);
        const __m512i q = _mm512_or_si512(low, _mm512_slli_epi16(hi, 2));  // value + 4
        const __m512i prod = _mm512_maddubs_epi16(q, load64(y[b].qs + 128 * h + 64 * g));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(prod, _mm512_shuffle_epi8(s16, pick[g])));
      }
    }
    const int32_t isum = _mm512_reduce_add_epi32(acc) - 4 * scaled_bsums(sc, y[b].bsums);
    sum += k_dot_block_term(y[b].d * half(x[b].d), isum, 0.0f, 0);
  }
  return sum;
}

float dot_q2_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const BlockQ2_K* x = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const __m512i m3 = _mm512_set1_epi8(3);
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const __m512i pick[2] = {lane_pick(0, 1), lane_pick(4, 1)};
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i packed = load16(x[b].scales);
    const int32_t msum = q2_mins_dot_bsums(packed, y[b].bsums);
    const __m128i scales = _mm_and_si128(packed, m4);
    const __m512i s16[2] = {_mm512_broadcast_i32x4(_mm_cvtepu8_epi16(scales)),
                            _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(_mm_srli_si128(scales, 8)))};
    __m512i acc = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m512i qs_all = load32_twice(x[b].qs + 32 * h);
      for (int g = 0; g < 2; ++g) {
        const int p = 2 * g;
        const __m512i q = _mm512_and_si512(_mm512_srlv_epi16(qs_all, halves_epi16(2 * p, 2 * p + 2)), m3);
        const __m512i prod = _mm512_maddubs_epi16(q, load64(y[b].qs + 128 * h + 64 * g));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(prod, _mm512_shuffle_epi8(s16[h], pick[g])));
      }
    }
    sum += k_dot_block_term(y[b].d * half(x[b].d), _mm512_reduce_add_epi32(acc), y[b].d * half(x[b].dmin), msum);
  }
  return sum;
}

}  // namespace lmpack
