// AVX-512 (F, BW, VL, DQ) dot products of the 32-element block formats with
// Q8_0 / Q8_1 activations: two blocks per 512-bit step (block b in the low
// 256 bits, b + 1 in the high), 512-bit maddubs/madd into 16 int32, scaled
// by a vector holding d_w * d_a of each block in its half. An odd last block
// runs the AVX2 step. Equal to the scalar references up to float summation
// order. Signed x signed bytes use |x| and y negated where x < 0.
// GCC 12 warns inside its own AVX-512 headers (_mm512_cast*256*512 and the
// reduce helpers start from an "undefined" vector); the warning is spurious.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)  // GCC's name; clang has no such group and warns about the pragma
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "formats/dots_x86.h"
#include "formats/format_common.h"
#include "formats/iq4_nl.h"
#include "formats/simd_avx2_blocks.h"

namespace lmpack {
namespace {

inline __m512i join(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

inline __m512i dot4_u8_i8(__m512i x, __m512i y) {
  return _mm512_madd_epi16(_mm512_maddubs_epi16(x, y), _mm512_set1_epi16(1));
}

inline __m512i dot4_i8_i8(__m512i x, __m512i y) {
  const __mmask64 negative = _mm512_movepi8_mask(x);
  const __m512i y_signed = _mm512_mask_sub_epi8(y, negative, _mm512_setzero_si512(), y);
  return dot4_u8_i8(_mm512_abs_epi8(x), y_signed);
}

// Template parameters as in dots_legacy_avx2.cpp.
template <int kWBytes, int kABytes, int kAQs, bool kSigned, bool kAffine, typename Quants>
float dot_blocks(int64_t n, const void* w, const void* a, Quants quants) {
  const uint8_t* pw = static_cast<const uint8_t*>(w);
  const uint8_t* pa = static_cast<const uint8_t*>(a);
  const int64_t nb = n / kQK;
  // Two blocks into `acc`: d_w * d_a of block b in the low 8 lanes, b + 1 in the high.
  auto step = [&](int64_t b, __m512 acc, float* sum_min) {
    const uint8_t* x0 = pw + b * kWBytes;
    const uint8_t* x1 = x0 + kWBytes;
    const uint8_t* y0 = pa + b * kABytes;
    const uint8_t* y1 = y0 + kABytes;
    const __m512i x = join(quants(x0), quants(x1));
    const __m512i y = join(quants_q8(y0 + kAQs), quants_q8(y1 + kAQs));
    const __m512i p = kSigned ? dot4_i8_i8(x, y) : dot4_u8_i8(x, y);
    const __m512 d = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(load_fp16(x0) * load_fp16(y0)),
                                          _mm512_set1_ps(load_fp16(x1) * load_fp16(y1)));
    if constexpr (kAffine) *sum_min += load_fp16(x0 + 2) * load_fp16(y0 + 2) + load_fp16(x1 + 2) * load_fp16(y1 + 2);
    return _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(p), acc);
  };
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  float min0 = 0, min1 = 0;
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    acc0 = step(b, acc0, &min0);
    acc1 = step(b + 2, acc1, &min1);
  }
  if (b + 2 <= nb) {
    acc0 = step(b, acc0, &min0);
    b += 2;
  }
  float sum_min = min0 + min1;
  const __m512 acc = _mm512_add_ps(acc0, acc1);
  float sum = _mm512_reduce_add_ps(acc);
  if (b < nb) {
    const uint8_t* xb = pw + b * kWBytes;
    const uint8_t* yb = pa + b * kABytes;
    const __m256i x = quants(xb);
    const __m256i y = quants_q8(yb + kAQs);
    const __m256i p = kSigned ? dot_i8_i8(x, y) : dot_u8_i8(x, y);
    sum += load_fp16(xb) * load_fp16(yb) * hsum_ps(_mm256_cvtepi32_ps(p));
    if constexpr (kAffine) sum_min += load_fp16(xb + 2) * load_fp16(yb + 2);
  }
  return sum + sum_min;
}

}  // namespace

float dot_q4_0_q8_0_avx512(int64_t n, const void* w, const void* a) {
  return dot_blocks<18, 34, 2, true, false>(n, w, a, [](const uint8_t* p) { return quants_q4_0(p); });
}

float dot_q4_1_q8_1_avx512(int64_t n, const void* w, const void* a) {
  return dot_blocks<20, 36, 4, false, true>(n, w, a, [](const uint8_t* p) { return quants_q4_1(p); });
}

float dot_q5_0_q8_0_avx512(int64_t n, const void* w, const void* a) {
  return dot_blocks<22, 34, 2, true, false>(n, w, a, [](const uint8_t* p) { return quants_q5_0(p); });
}

float dot_q5_1_q8_1_avx512(int64_t n, const void* w, const void* a) {
  return dot_blocks<24, 36, 4, false, true>(n, w, a, [](const uint8_t* p) { return quants_q5_1(p); });
}

float dot_q8_0_q8_0_avx512(int64_t n, const void* w, const void* a) {
  return dot_blocks<34, 34, 2, true, false>(n, w, a, [](const uint8_t* p) { return quants_q8(p + 2); });
}

float dot_iq4_nl_q8_0_avx512(int64_t n, const void* w, const void* a) {
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
  return dot_blocks<18, 34, 2, true, false>(n, w, a, [table](const uint8_t* p) { return quants_iq4_nl(p, table); });
}

}  // namespace lmpack
