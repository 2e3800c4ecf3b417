// F32: IEEE 754 single precision, one value per 4 bytes (32 bits per
// weight), little-endian. GGML type id 0. The float family's row functions:
// encode is a copy, and the dot product of a stored row with an fp32
// activation row (the dot_type of F32, F16 and BF16 is F32).
#pragma once

#include <cstdint>

namespace lmpack {

// out: [n] floats (any alignment); in: [n]; importance is ignored.
void quantize_row_f32(void* out, const float* in, int64_t n, const float* importance);
// out: [n]; in: [n] floats (any alignment).
void dequantize_row_f32(float* out, const void* in, int64_t n);

// sum_i w[i] * a[i]; w: [n] floats, a: [n] floats; any n >= 0. The scalar
// references keep 8 partial sums (lane i % 8) like the SIMD variants.
float dot_f32_f32_scalar(int64_t n, const void* w, const void* a);
// w: [n] halves (formats/f16.h), a: [n] floats.
float dot_f16_f32_scalar(int64_t n, const void* w, const void* a);
// w: [n] bfloat16 values (formats/bf16.h), a: [n] floats.
float dot_bf16_f32_scalar(int64_t n, const void* w, const void* a);

}  // namespace lmpack
