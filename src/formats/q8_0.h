// Q8_0: blocks of 32 weights, one fp16 scale, signed 8-bit quants.
// 34 bytes per 32 weights = 8.5 bits per weight. GGML type id 8.
//
// Bit layout: d (fp16), then qs[32] as int8:
//   x[j] = d * qs[j]                            j = 0..31
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ8_0 {
  uint16_t d;          // scale (fp16)
  int8_t qs[kQK];      // quants
};
static_assert(sizeof(BlockQ8_0) == 34, "block_q8_0 is 34 bytes in GGML");

// out: [n] floats; in: [n / 32] blocks; n a multiple of 32.
void dequantize_row_q8_0(float* out, const void* in, int64_t n);
// The variants it picks between on active_isa(), the same floats bit for bit
// (the AVX2 one in formats/dequantize_avx2.cpp).
void dequantize_row_q8_0_scalar(float* out, const void* in, int64_t n);
void dequantize_row_q8_0_avx2(float* out, const void* in, int64_t n);

// Encoder, GGML's reference rounding: d = max|x| / 127, q = round(x / d)
// (half away from zero). Importance is ignored (as in GGML: 8 bits leave
// nothing to search). Also the activation quantizer of Q4_0, Q5_0, Q8_0 and
// IQ4_NL dots, so it runs the best SIMD variant; all variants write the same
// bytes. out: [n / 32] blocks; in: [n]; n a multiple of 32.
void quantize_row_q8_0(void* out, const float* in, int64_t n, const float* importance);
void quantize_row_q8_0_scalar(void* out, const float* in, int64_t n);

// sum_i w[i] * a[i]; w, a: [n / 32] Q8_0 blocks.
float dot_q8_0_q8_0_scalar(int64_t n, const void* w, const void* a);

// The grid of a stored row (FormatOps::row_grid): element j holds exactly
// scale[j] * q + offset[j] for the codes q = -128..127, with scale = d of its
// block, offset -0.
// scale, offset: [n] out; row: [n / 32] blocks.
void row_grid_q8_0(float* scale, float* offset, const void* row, int64_t n);

// Rewrites the codes of a stored row (FormatOps::set_row_codes), keeping
// d. row: [n / 32] blocks, in place; codes: [n], each in -128..127.
void set_row_codes_q8_0(void* row, const int32_t* codes, int64_t n);

}  // namespace lmpack
