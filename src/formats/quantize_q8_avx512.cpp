// AVX-512 activation quantizers to Q8_0 and Q8_1, byte-identical to the
// scalar references (same d, id, x * id and round-half-away-from-zero built
// from truncation; see quantize_q8_avx2.cpp). Two 16-float halves a block.
// GCC 12 warns inside its own AVX-512 headers (_mm512_cast*256*512 and the
// reduce helpers start from an "undefined" vector); the warning is spurious.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)  // GCC's name; clang has no such group and warns about the pragma
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include "formats/dots_x86.h"
#include "formats/quantize_q8_rows.h"

namespace lmpack {
namespace {

inline __m512 round_half_away(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 step = _mm512_or_ps(_mm512_and_ps(v, _mm512_set1_ps(-0.0f)), _mm512_set1_ps(1.0f));
  return _mm512_mask_add_ps(t, up, t, step);
}

inline float quantize_block(int8_t* qs, const float* x, int* sum) {
  const __m512 v0 = _mm512_loadu_ps(x);
  const __m512 v1 = _mm512_loadu_ps(x + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
  const float d = amax / 127;
  const __m512 id = _mm512_set1_ps(d != 0 ? 1.0f / d : 0.0f);
  const __m512i q0 = _mm512_cvtps_epi32(round_half_away(_mm512_mul_ps(v0, id)));
  const __m512i q1 = _mm512_cvtps_epi32(round_half_away(_mm512_mul_ps(v1, id)));
  *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), _mm512_cvtsepi32_epi8(q0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), _mm512_cvtsepi32_epi8(q1));
  return d;
}

}  // namespace

void quantize_row_q8_0_avx512(void* out, const float* in, int64_t n) {
  quantize_rows_q8_0<quantize_block>(out, in, n);
}

void quantize_row_q8_1_avx512(void* out, const float* in, int64_t n) {
  quantize_rows_q8_1<quantize_block>(out, in, n);
}

}  // namespace lmpack
