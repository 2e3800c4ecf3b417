// BF16: bfloat16, the top 16 bits of an IEEE float32 (16 bits per weight).
// Layout: sign(1) exponent(8, bias 127) mantissa(7), little-endian uint16.
// GGML type id 30.
#pragma once

#include <cstdint>

namespace lmpack {

// out: [n] floats; in: [n] bfloat16 values.
void dequantize_row_bf16(float* out, const void* in, int64_t n);
// The variants it picks between on active_isa(), the same floats bit for bit
// (the AVX2 one in formats/dequantize_avx2.cpp).
void dequantize_row_bf16_scalar(float* out, const void* in, int64_t n);
void dequantize_row_bf16_avx2(float* out, const void* in, int64_t n);
// out: [n] bfloat16, rounded to nearest even (NaN stays NaN); in: [n] floats.
void quantize_row_bf16(void* out, const float* in, int64_t n);

// quantize_row_bf16 runs the best variant for active_isa(); the variants
// write the same bytes (AVX2 one in formats/float_convert_avx2.cpp).
void quantize_row_bf16_scalar(void* out, const float* in, int64_t n);
void quantize_row_bf16_avx2(void* out, const float* in, int64_t n);

}  // namespace lmpack
