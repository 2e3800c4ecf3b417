// AVX2 dot products of stored float rows (F32, F16, BF16) with fp32
// activations: 4 x 8 fp32 FMA accumulators, an 8-wide step, a scalar tail.
// F16 widens with F16C (vcvtph2ps); BF16 by a 16-bit left shift.
#include <immintrin.h>

#include <cstring>

#include "formats/dots_x86.h"

namespace lmpack {
namespace {

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Element i of a row that may sit at any byte address (rows are views into a
// mapped file): memcpy, never a misaligned dereference.
template <typename T>
T load_any(const T* p, int64_t i) {
  T v;
  std::memcpy(&v, p + i, sizeof v);
  return v;
}

// BF16 -> fp32 here rather than core/dtype.h's inline (see DEVELOPERS.md: no
// shared inline functions inside a SIMD file).
float widen_bf16(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// load8(i): 8 weights from element i as fp32; load1(i): one weight.
template <typename Load8, typename Load1>
float dot_rows(int64_t n, const float* a, Load8 load8, Load1 load1) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(load8(i), _mm256_loadu_ps(a + i), acc0);
    acc1 = _mm256_fmadd_ps(load8(i + 8), _mm256_loadu_ps(a + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(load8(i + 16), _mm256_loadu_ps(a + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(load8(i + 24), _mm256_loadu_ps(a + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load8(i), _mm256_loadu_ps(a + i), acc0);
  float sum = hsum8(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += load1(i) * a[i];
  return sum;
}

}  // namespace

float dot_f32_f32_avx2(int64_t n, const void* w, const void* a) {
  const float* pw = static_cast<const float*>(w);
  return dot_rows(
      n, static_cast<const float*>(a), [pw](int64_t i) { return _mm256_loadu_ps(pw + i); },
      [pw](int64_t i) { return load_any(pw, i); });
}

float dot_f16_f32_avx2(int64_t n, const void* w, const void* a) {
  const uint16_t* pw = static_cast<const uint16_t*>(w);
  return dot_rows(
      n, static_cast<const float*>(a),
      [pw](int64_t i) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pw + i))); },
      [pw](int64_t i) { return _cvtsh_ss(load_any(pw, i)); });
}

float dot_bf16_f32_avx2(int64_t n, const void* w, const void* a) {
  const uint16_t* pw = static_cast<const uint16_t*>(w);
  return dot_rows(
      n, static_cast<const float*>(a),
      [pw](int64_t i) {
        const __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pw + i)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
      },
      [pw](int64_t i) { return widen_bf16(load_any(pw, i)); });
}

}  // namespace lmpack
