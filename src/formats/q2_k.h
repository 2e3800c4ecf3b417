// Q2_K: super-blocks of 256 weights in 16 sub-blocks of 16, 2-bit quants
// with a 4-bit scale and 4-bit min per sub-block, and fp16 super-block
// scales d and dmin. 84 bytes per 256 weights = 2.625 bits per weight.
// GGML type id 10.
//
// Bit layout: scales[16], qs[64], d (fp16), dmin (fp16).
//   scales[s]: low nibble = scale of sub-block s, high nibble = its min.
//   The 256 weights are two halves of 128 (h = 0, 1), each using qs[32h ..
//   32h + 31]. Within a half, weight 32p + l (p = 0..3, l = 0..31) is bits
//   2p..2p+1 of qs[32h + l], and it belongs to sub-block s = 8h + 2p + l/16:
//     x[128h + 32p + l] = d * (scales[s] & 15) * q - dmin * (scales[s] >> 4)
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];  // 4-bit scale (low) and min (high) per sub-block
  uint8_t qs[kQK_K / 4];       // 2-bit quants
  uint16_t d;                  // super-block scale for scales (fp16)
  uint16_t dmin;               // super-block scale for mins (fp16)
};
static_assert(sizeof(BlockQ2_K) == 84, "block_q2_K is 84 bytes in GGML");

// out: [n] floats; in: [n / 256] blocks; n a multiple of 256.
void dequantize_row_q2_k(float* out, const void* in, int64_t n);

// out: [n / 256] blocks; in: [n]; importance: [n] or nullptr. Per 16-value
// sub-block an affine (scale, min) search on levels 0..3 (weights |x|, mean
// absolute error, without importance; importance_i * sqrt(mean x^2 + x_i^2)
// and squared error with it), then 4-bit scales and mins against fp16 d and
// dmin: rounded against their maxima without importance, fitted by
// k_search_positive with it (GGML's quantize_row_q2_K_ref / _impl).
void quantize_row_q2_k(void* out, const float* in, int64_t n, const float* importance);

// The grid of a stored row (FormatOps::row_grid): element j holds exactly
// scale[j] * q + offset[j] for the codes q = 0..3, with
// scale = d * (scales[s] & 15) and offset = -(dmin * (scales[s] >> 4)) for
// its sub-block s = j / 16.
// scale, offset: [n] out; row: [n / 256] blocks.
void row_grid_q2_k(float* scale, float* offset, const void* row, int64_t n);

// Rewrites the codes of a stored row (FormatOps::set_row_codes), keeping
// d, dmin and scales. row: [n / 256] blocks, in place; codes: [n], each in 0..3.
void set_row_codes_q2_k(void* row, const int32_t* codes, int64_t n);

}  // namespace lmpack
