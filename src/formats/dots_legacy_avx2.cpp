// AVX2 dot products of the 32-element block formats with Q8_0 / Q8_1
// activations. Per block: expand the weight quants to 32 signed (or
// unsigned) bytes, multiply-add against the activation bytes into 8 int32
// (exact), convert and scale by d_w * d_a into float accumulators; the _1
// formats add m_w * s_a per block. Equal to the scalar references up to
// float summation order.
#include "formats/dots_x86.h"
#include "formats/format_common.h"
#include "formats/iq4_nl.h"
#include "formats/simd_avx2_blocks.h"

namespace lmpack {
namespace {

// kWBytes/kABytes: block sizes; kAQs: offset of qs in the activation block
// (2 for Q8_0, 4 for Q8_1); kSigned: weight quants are signed bytes;
// kAffine: the weight block holds a minimum at byte 2 and the activation a
// sum at byte 2. quants(p): the weight block's 32 quant bytes.
template <int kWBytes, int kABytes, int kAQs, bool kSigned, bool kAffine, typename Quants>
float dot_blocks(int64_t n, const void* w, const void* a, Quants quants) {
  const uint8_t* pw = static_cast<const uint8_t*>(w);
  const uint8_t* pa = static_cast<const uint8_t*>(a);
  const int64_t nb = n / kQK;
  // One block into `acc`; two named accumulators (an indexed array would be
  // kept in memory) hide the FMA latency.
  auto step = [&](int64_t b, __m256 acc, float* sum_min) {
    const uint8_t* xb = pw + b * kWBytes;
    const uint8_t* yb = pa + b * kABytes;
    const __m256i x = quants(xb);
    const __m256i y = quants_q8(yb + kAQs);
    const __m256i p = kSigned ? dot_i8_i8(x, y) : dot_u8_i8(x, y);
    if constexpr (kAffine) *sum_min += load_fp16(xb + 2) * load_fp16(yb + 2);
    return _mm256_fmadd_ps(_mm256_set1_ps(load_fp16(xb) * load_fp16(yb)), _mm256_cvtepi32_ps(p), acc);
  };
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float min0 = 0, min1 = 0;
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    acc0 = step(b, acc0, &min0);
    acc1 = step(b + 1, acc1, &min1);
  }
  if (b < nb) acc0 = step(b, acc0, &min0);
  return hsum_ps(_mm256_add_ps(acc0, acc1)) + (min0 + min1);
}

}  // namespace

float dot_q4_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks<18, 34, 2, true, false>(n, w, a, [](const uint8_t* p) { return quants_q4_0(p); });
}

float dot_q4_1_q8_1_avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks<20, 36, 4, false, true>(n, w, a, [](const uint8_t* p) { return quants_q4_1(p); });
}

float dot_q5_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks<22, 34, 2, true, false>(n, w, a, [](const uint8_t* p) { return quants_q5_0(p); });
}

float dot_q5_1_q8_1_avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks<24, 36, 4, false, true>(n, w, a, [](const uint8_t* p) { return quants_q5_1(p); });
}

float dot_q8_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks<34, 34, 2, true, false>(n, w, a, [](const uint8_t* p) { return quants_q8(p + 2); });
}

float dot_iq4_nl_q8_0_avx2(int64_t n, const void* w, const void* a) {
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
  return dot_blocks<18, 34, 2, true, false>(n, w, a, [table](const uint8_t* p) { return quants_iq4_nl(p, table); });
}

}  // namespace lmpack
