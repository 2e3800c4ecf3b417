// Q5_0: blocks of 32 weights, one fp16 scale, 5-bit unsigned quants offset
// by 16. 22 bytes per 32 weights = 5.5 bits per weight. GGML type id 6.
//
// Bit layout: d (fp16), qh[4] (read as a little-endian uint32 h), qs[16].
// Byte j of qs holds the low 4 bits of element j (low nibble) and of element
// j + 16 (high nibble); bit i of h is bit 4 of element i (i = 0..31):
//   x[j]      = d * (((qs[j] & 0x0F) | ((h >> j)        & 1) << 4) - 16)
//   x[j + 16] = d * (((qs[j] >> 4)   | ((h >> (j + 16)) & 1) << 4) - 16)
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ5_0 {
  uint16_t d;              // scale (fp16)
  uint8_t qh[4];           // fifth bits, element i at bit i
  uint8_t qs[kQK / 2];     // low nibbles
};
static_assert(sizeof(BlockQ5_0) == 22, "block_q5_0 is 22 bytes in GGML");

// out: [n] floats; in: [n / 32] blocks; n a multiple of 32.
void dequantize_row_q5_0(float* out, const void* in, int64_t n);

// Encoder as Q4_0 with 32 levels: d = -max / 16 without importance, the
// weighted scale search with it. out: [n / 32] blocks; in: [n].
void quantize_row_q5_0(void* out, const float* in, int64_t n, const float* importance);

// sum_i w[i] * a[i]; w: [n / 32] Q5_0 blocks, a: [n / 32] Q8_0 blocks.
float dot_q5_0_q8_0_scalar(int64_t n, const void* w, const void* a);

// The grid of a stored row (FormatOps::row_grid): element j holds exactly
// scale[j] * q + offset[j] for the codes q = -16..15, with scale = d of its
// block, offset -0.
// scale, offset: [n] out; row: [n / 32] blocks.
void row_grid_q5_0(float* scale, float* offset, const void* row, int64_t n);

// Rewrites the codes of a stored row (FormatOps::set_row_codes), keeping
// d. row: [n / 32] blocks, in place; codes: [n], each in -16..15.
void set_row_codes_q5_0(void* row, const int32_t* codes, int64_t n);

}  // namespace lmpack
