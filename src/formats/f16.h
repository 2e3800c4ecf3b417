// F16: IEEE 754 half precision, one value per 2 bytes (16 bits per weight).
// Layout: sign(1) exponent(5, bias 15) mantissa(10), little-endian uint16.
// GGML type id 1. Scalar conversion lives in core/dtype.h; these are the row
// functions the formats layer offers for every format.
#pragma once

#include <cstdint>

namespace lmpack {

// out: [n] floats; in: [n] halves.
void dequantize_row_f16(float* out, const void* in, int64_t n);
// out: [n] halves, rounded to nearest even; in: [n] floats.
void quantize_row_f16(void* out, const float* in, int64_t n);

// The two above run the best variant for active_isa(); these are the
// variants (the AVX2 ones in formats/float_convert_avx2.cpp need F16C), all
// byte-identical (NaN decodes may differ in the quiet bit).
void dequantize_row_f16_scalar(float* out, const void* in, int64_t n);
void quantize_row_f16_scalar(void* out, const float* in, int64_t n);
void dequantize_row_f16_avx2(float* out, const void* in, int64_t n);
void quantize_row_f16_avx2(void* out, const float* in, int64_t n);

}  // namespace lmpack
