// Q4_1: blocks of 32 weights, an fp16 scale and an fp16 minimum, 4-bit
// unsigned quants. 20 bytes per 32 weights = 5 bits per weight. GGML id 3.
//
// Bit layout: d (fp16), m (fp16), then qs[16]. Byte j holds element j in its
// low nibble and element j + 16 in its high nibble:
//   x[j]      = d * (qs[j] & 0x0F) + m
//   x[j + 16] = d * (qs[j] >> 4)   + m          j = 0..15
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ4_1 {
  uint16_t d;              // scale (fp16)
  uint16_t m;              // minimum (fp16)
  uint8_t qs[kQK / 2];     // nibbles
};
static_assert(sizeof(BlockQ4_1) == 20, "block_q4_1 is 20 bytes in GGML");

// out: [n] floats; in: [n / 32] blocks; n a multiple of 32.
void dequantize_row_q4_1(float* out, const void* in, int64_t n);

// Encoder. Without importance: GGML's reference min/max rounding,
// d = (max - min) / 15, m = min. With importance[n]: a weighted search of
// (d, m) over a fan of scales with least-squares refits (GGML's
// make_qkx3_quants), weights as for Q4_0. out: [n / 32] blocks; in: [n].
void quantize_row_q4_1(void* out, const float* in, int64_t n, const float* importance);

// sum_i w[i] * a[i]; w: [n / 32] Q4_1 blocks, a: [n / 32] Q8_1 blocks.
float dot_q4_1_q8_1_scalar(int64_t n, const void* w, const void* a);

// The grid of a stored row (FormatOps::row_grid): element j holds exactly
// scale[j] * q + offset[j] for the codes q = 0..15, with scale = d, offset = m
// of its block.
// scale, offset: [n] out; row: [n / 32] blocks.
void row_grid_q4_1(float* scale, float* offset, const void* row, int64_t n);

// Rewrites the codes of a stored row (FormatOps::set_row_codes), keeping
// d and m. row: [n / 32] blocks, in place; codes: [n], each in 0..15.
void set_row_codes_q4_1(void* row, const int32_t* codes, int64_t n);

}  // namespace lmpack
