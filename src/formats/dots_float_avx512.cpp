// AVX-512 dot products of stored float rows (F32, F16, BF16) with fp32
// activations: 4 x 16 fp32 FMA accumulators, a 16-wide step, and a masked
// load for the last n % 16 elements (no scalar tail).
// GCC 12 warns inside its own AVX-512 headers (_mm512_cast*256*512 and the
// reduce helpers start from an "undefined" vector); the warning is spurious.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)  // GCC's name; clang has no such group and warns about the pragma
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include "formats/dots_x86.h"

namespace lmpack {
namespace {

// load16(i, mask): the weights i .. i+15 selected by mask (others 0) as fp32.
template <typename Load16>
float dot_rows(int64_t n, const float* a, Load16 load16) {
  constexpr __mmask16 kAll = 0xFFFF;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = _mm512_fmadd_ps(load16(i, kAll), _mm512_loadu_ps(a + i), acc0);
    acc1 = _mm512_fmadd_ps(load16(i + 16, kAll), _mm512_loadu_ps(a + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(load16(i + 32, kAll), _mm512_loadu_ps(a + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(load16(i + 48, kAll), _mm512_loadu_ps(a + i + 48), acc3);
  }
  for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(load16(i, kAll), _mm512_loadu_ps(a + i), acc0);
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    acc1 = _mm512_fmadd_ps(load16(i, m), _mm512_maskz_loadu_ps(m, a + i), acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

}  // namespace

float dot_f32_f32_avx512(int64_t n, const void* w, const void* a) {
  const float* pw = static_cast<const float*>(w);
  return dot_rows(n, static_cast<const float*>(a),
                  [pw](int64_t i, __mmask16 m) { return _mm512_maskz_loadu_ps(m, pw + i); });
}

float dot_f16_f32_avx512(int64_t n, const void* w, const void* a) {
  const uint16_t* pw = static_cast<const uint16_t*>(w);
  return dot_rows(n, static_cast<const float*>(a), [pw](int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, pw + i));
  });
}

float dot_bf16_f32_avx512(int64_t n, const void* w, const void* a) {
  const uint16_t* pw = static_cast<const uint16_t*>(w);
  return dot_rows(n, static_cast<const float*>(a), [pw](int64_t i, __mmask16 m) {
    const __m512i u = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, pw + i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
  });
}

}  // namespace lmpack
