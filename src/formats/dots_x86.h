// The x86 SIMD variants of the float and 32-element block formats' row
// kernels: dot products (formats/dots_{legacy,float}_{avx2,avx512}.cpp) and
// the Q8_0/Q8_1 activation quantizers (formats/quantize_q8_{avx2,avx512}.cpp).
// Each has the signature and the result of its scalar reference in the
// format's header (dot_<w>_<a>_scalar, quantize_row_q8_*_scalar): dots equal
// it up to float summation order, quantizers byte for byte. Call a variant
// only when active_isa() allows it; formats/format.h's table picks for you.
#pragma once

#include <cstdint>

namespace lmpack {

// Dots: sum_i w[i] * a[i]; w, a as in the scalar reference; n a multiple of
// 32 for block formats, any n >= 0 for the float ones.
float dot_q4_0_q8_0_avx2(int64_t n, const void* w, const void* a);
float dot_q4_1_q8_1_avx2(int64_t n, const void* w, const void* a);
float dot_q5_0_q8_0_avx2(int64_t n, const void* w, const void* a);
float dot_q5_1_q8_1_avx2(int64_t n, const void* w, const void* a);
float dot_q8_0_q8_0_avx2(int64_t n, const void* w, const void* a);
float dot_iq4_nl_q8_0_avx2(int64_t n, const void* w, const void* a);
float dot_f32_f32_avx2(int64_t n, const void* w, const void* a);
float dot_f16_f32_avx2(int64_t n, const void* w, const void* a);
float dot_bf16_f32_avx2(int64_t n, const void* w, const void* a);

float dot_q4_0_q8_0_avx512(int64_t n, const void* w, const void* a);
float dot_q4_1_q8_1_avx512(int64_t n, const void* w, const void* a);
float dot_q5_0_q8_0_avx512(int64_t n, const void* w, const void* a);
float dot_q5_1_q8_1_avx512(int64_t n, const void* w, const void* a);
float dot_q8_0_q8_0_avx512(int64_t n, const void* w, const void* a);
float dot_iq4_nl_q8_0_avx512(int64_t n, const void* w, const void* a);
float dot_f32_f32_avx512(int64_t n, const void* w, const void* a);
float dot_f16_f32_avx512(int64_t n, const void* w, const void* a);
float dot_bf16_f32_avx512(int64_t n, const void* w, const void* a);

// Activation quantizers: out: [n / 32] blocks; in: [n]; n a multiple of 32.
void quantize_row_q8_0_avx2(void* out, const float* in, int64_t n);
void quantize_row_q8_1_avx2(void* out, const float* in, int64_t n);
void quantize_row_q8_0_avx512(void* out, const float* in, int64_t n);
void quantize_row_q8_1_avx512(void* out, const float* in, int64_t n);

}  // namespace lmpack
