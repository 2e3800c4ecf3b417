// Q5_1: blocks of 32 weights, an fp16 scale and an fp16 minimum, 5-bit
// unsigned quants. 24 bytes per 32 weights = 6 bits per weight. GGML id 7.
//
// Bit layout: d (fp16), m (fp16), qh[4] (little-endian uint32 h), qs[16].
// Byte j of qs holds the low 4 bits of element j (low nibble) and of element
// j + 16 (high nibble); bit i of h is bit 4 of element i (i = 0..31):
//   x[j]      = d * ((qs[j] & 0x0F) | ((h >> j)        & 1) << 4) + m
//   x[j + 16] = d * ((qs[j] >> 4)   | ((h >> (j + 16)) & 1) << 4) + m
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ5_1 {
  uint16_t d;              // scale (fp16)
  uint16_t m;              // minimum (fp16)
  uint8_t qh[4];           // fifth bits, element i at bit i
  uint8_t qs[kQK / 2];     // low nibbles
};
static_assert(sizeof(BlockQ5_1) == 24, "block_q5_1 is 24 bytes in GGML");

// out: [n] floats; in: [n / 32] blocks; n a multiple of 32.
void dequantize_row_q5_1(float* out, const void* in, int64_t n);

// Encoder as Q4_1 with 32 levels: d = (max - min) / 31 without importance,
// the weighted (d, m) search with it. out: [n / 32] blocks; in: [n].
void quantize_row_q5_1(void* out, const float* in, int64_t n, const float* importance);

// sum_i w[i] * a[i]; w: [n / 32] Q5_1 blocks, a: [n / 32] Q8_1 blocks.
float dot_q5_1_q8_1_scalar(int64_t n, const void* w, const void* a);

// The grid of a stored row (FormatOps::row_grid): element j holds exactly
// scale[j] * q + offset[j] for the codes q = 0..31, with scale = d, offset = m
// of its block.
// scale, offset: [n] out; row: [n / 32] blocks.
void row_grid_q5_1(float* scale, float* offset, const void* row, int64_t n);

// Rewrites the codes of a stored row (FormatOps::set_row_codes), keeping
// d and m. row: [n / 32] blocks, in place; codes: [n], each in 0..31.
void set_row_codes_q5_1(void* row, const int32_t* codes, int64_t n);

}  // namespace lmpack
