// AVX2 + F16C row conversions between fp32 and F16 / BF16, byte-identical to
// the scalar references in formats/f16.cpp and formats/bf16.cpp: F16 through
// vcvtps2ph / vcvtph2ps (IEEE round to nearest even, subnormals included),
// with NaN inputs rewritten to the scalar's sign | 0x7e00; BF16 by the same
// integer rounding as f32_to_bf16. 8 values a step, scalar tail.
#include <immintrin.h>

#include <cstring>

#include "core/dtype.h"
#include "formats/bf16.h"
#include "formats/f16.h"

namespace lmpack {
namespace {

// 8 int32 lanes (each <= 0xFFFF) -> 8 uint16.
inline __m128i narrow_u16(__m256i v) {
  return _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

}  // namespace

void quantize_row_f16_avx2(void* out, const float* in, int64_t n) {
  uint8_t* p = static_cast<uint8_t*>(out);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(in + i);
    const __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256i bits = _mm256_castps_si256(v);
    const __m256i nan_value =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x8000)),
                        _mm256_set1_epi32(0x7e00));
    const __m128i is_nan = narrow_u16(_mm256_srli_epi32(_mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)), 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 2 * i), _mm_blendv_epi8(h, narrow_u16(nan_value), is_nan));
  }
  for (; i < n; ++i) {
    const uint16_t h = f32_to_fp16(in[i]);
    std::memcpy(p + 2 * i, &h, 2);
  }
}

void dequantize_row_f16_avx2(float* out, const void* in, int64_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(in);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i))));
  for (; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    out[i] = fp16_to_f32(h);
  }
}

void quantize_row_bf16_avx2(void* out, const float* in, int64_t n) {
  uint8_t* p = static_cast<uint8_t*>(out);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(in + i);
    const __m256i u = _mm256_castps_si256(v);
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), odd), 16);
    const __m256i nan_value = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
    const __m256i is_nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 2 * i), narrow_u16(_mm256_blendv_epi8(rounded, nan_value, is_nan)));
  }
  for (; i < n; ++i) {
    const uint16_t b = f32_to_bf16(in[i]);
    std::memcpy(p + 2 * i, &b, 2);
  }
}

}  // namespace lmpack
