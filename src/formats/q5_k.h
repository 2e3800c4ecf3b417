// Q5_K: super-blocks of 256 weights in 8 sub-blocks of 32, 5-bit unsigned
// quants with a 6-bit scale and 6-bit min per sub-block, and fp16 super-block
// scales d and dmin. 176 bytes per 256 weights = 5.5 bits per weight.
// GGML type id 13.
//
// Bit layout: d (fp16), dmin (fp16), scales[12], qh[32], qs[128].
//   scales[12]: as Q4_K (unpack_scale_min_k4 in formats/format_common.h).
//   Weights come in 4 chunks of 64 (c = 0..3), chunk c using qs[32c + l]
//   for its low 4 bits and bits 2c (first 32) / 2c + 1 (second 32) of qh[l]
//   for the fifth bit:
//     x[64c + l]      = d * sc[2c]     * ((qs[32c+l] & 15) + 16 * bit(qh[l], 2c))     - dmin * mn[2c]
//     x[64c + 32 + l] = d * sc[2c + 1] * ((qs[32c+l] >> 4) + 16 * bit(qh[l], 2c + 1)) - dmin * mn[2c + 1]
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ5_K {
  uint16_t d;                    // super-block scale for scales (fp16)
  uint16_t dmin;                 // super-block scale for mins (fp16)
  uint8_t scales[kKScaleBytes];  // 6-bit scales and mins
  uint8_t qh[kQK_K / 8];         // fifth bits
  uint8_t qs[kQK_K / 2];         // low nibbles
};
static_assert(sizeof(BlockQ5_K) == 176, "block_q5_K is 176 bytes in GGML");

// out: [n] floats; in: [n / 256] blocks; n a multiple of 256.
void dequantize_row_q5_k(float* out, const void* in, int64_t n);

// out: [n / 256] blocks; in: [n]; importance: [n] or nullptr. As Q4_K with
// levels 0..31 (GGML's quantize_row_q5_K_ref / quantize_row_q5_K_impl).
void quantize_row_q5_k(void* out, const float* in, int64_t n, const float* importance);

// The grid of a stored row (FormatOps::row_grid): element j holds exactly
// scale[j] * q + offset[j] for the codes q = 0..31, with scale = d * sc[s],
// offset = -dmin * mn[s] for its sub-block s = j / 32.
// scale, offset: [n] out; row: [n / 256] blocks.
void row_grid_q5_k(float* scale, float* offset, const void* row, int64_t n);

// Rewrites the codes of a stored row (FormatOps::set_row_codes), keeping
// d, dmin and scales. row: [n / 256] blocks, in place; codes: [n], each in 0..31.
void set_row_codes_q5_k(void* row, const int32_t* codes, int64_t n);

}  // namespace lmpack
