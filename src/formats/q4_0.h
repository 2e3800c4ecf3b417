// Q4_0: blocks of 32 weights, one fp16 scale, 4-bit unsigned quants offset
// by 8. 18 bytes per 32 weights = 4.5 bits per weight. GGML type id 2.
//
// Bit layout: d (fp16), then qs[16]. Byte j holds element j in its low
// nibble and element j + 16 in its high nibble:
//   x[j]      = d * ((qs[j] & 0x0F) - 8)
//   x[j + 16] = d * ((qs[j] >> 4)   - 8)        j = 0..15
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ4_0 {
  uint16_t d;              // scale (fp16)
  uint8_t qs[kQK / 2];     // nibbles
};
static_assert(sizeof(BlockQ4_0) == 18, "block_q4_0 is 18 bytes in GGML");

// out: [n] floats; in: [n / 32] blocks (any alignment); n a multiple of 32.
void dequantize_row_q4_0(float* out, const void* in, int64_t n);

// Encoder. Without importance: GGML's reference rounding, d = -max / 8
// where max is the signed value of largest magnitude (so it lands on level
// -8, the one level without a positive twin). With importance[n] (per
// column): a weighted search of d minimizing sum_i w_i (x_i - d q_i)^2,
// w_i = importance_i * sqrt(sigma^2 + x_i^2), sigma^2 the row's mean square.
// out: [n / 32] blocks; in: [n]; n a multiple of 32.
void quantize_row_q4_0(void* out, const float* in, int64_t n, const float* importance);

// sum_i w[i] * a[i]; w: [n / 32] Q4_0 blocks, a: [n / 32] Q8_0 blocks.
float dot_q4_0_q8_0_scalar(int64_t n, const void* w, const void* a);

// The grid of a stored row (FormatOps::row_grid): element j holds exactly
// scale[j] * q + offset[j] for the codes q = -8..7, with scale = d of its
// block, offset -0.
// scale, offset: [n] out; row: [n / 32] blocks.
void row_grid_q4_0(float* scale, float* offset, const void* row, int64_t n);

// Rewrites the codes of a stored row (FormatOps::set_row_codes), keeping
// d. row: [n / 32] blocks, in place; codes: [n], each in -8..7.
void set_row_codes_q4_0(void* row, const int32_t* codes, int64_t n);

}  // namespace lmpack
