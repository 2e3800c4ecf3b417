// Q3_K: super-blocks of 256 weights in 16 sub-blocks of 16, 3-bit signed
// quants (2 low bits in qs, the third in hmask) with a 6-bit signed scale per
// sub-block and one fp16 super-block scale d. 110 bytes per 256 weights =
// 3.4375 bits per weight. GGML type id 11.
//
// Bit layout: hmask[32], qs[64], scales[12], d (fp16).
//   Weight 128h + 32p + l (h = 0..1, p = 0..3, l = 0..31) is in sub-block
//   s = 8h + 2p + l/16. Its low two bits are bits 2p..2p+1 of qs[32h + l];
//   its high bit is bit 4h + p of hmask[l]. q = low + 4 * high - 4 (-4..3):
//     x = d * (S[s] - 32) * q
//   S[s] (6 bits, 0..63): low 4 bits = s < 8 ? scales[s] & 15
//                                            : scales[s - 8] >> 4,
//                         high 2 bits = (scales[8 + s % 4] >> (2 * (s / 4))) & 3.
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];  // high (third) bits
  uint8_t qs[kQK_K / 4];     // low 2 bits
  uint8_t scales[12];        // 16 scales, 6 bits each
  uint16_t d;                // super-block scale (fp16)
};
static_assert(sizeof(BlockQ3_K) == 110, "block_q3_K is 110 bytes in GGML");

// The 16 sub-block scales S[s] - 32 (-32..31) of a block's scales[12].
void unpack_scales_q3_k(int8_t* out, const uint8_t* scales);

// out: [n] floats; in: [n / 256] blocks; n a multiple of 256.
void dequantize_row_q3_k(float* out, const void* in, int64_t n);

// The inverse of unpack_scales_q3_k: 16 values S[s] (0..63, i.e. scale + 32).
void pack_scales_q3_k(uint8_t* scales, const uint8_t* S);

// out: [n / 256] blocks; in: [n]; importance: [n] or nullptr. Without
// importance: per 16-value sub-block k_search_symmetric_refine (weights x^2),
// 6-bit scales rounded against the largest (GGML's quantize_row_q3_K_ref).
// With importance: weights importance_i * sqrt(2 mean x^2 + x_i^2) for the
// sub-block search, and the scales themselves fitted by k_search_symmetric
// weighted by each sub-block's total weight (GGML's quantize_row_q3_K_impl).
void quantize_row_q3_k(void* out, const float* in, int64_t n, const float* importance);

// The grid of a stored row (FormatOps::row_grid): element j holds exactly
// scale[j] * q + offset[j] for the codes q = -4..3, with
// scale = d * (S[s] - 32) for its sub-block s = j / 16 and offset -0 (adding
// -0 leaves the product unchanged bit for bit).
// scale, offset: [n] out; row: [n / 256] blocks.
void row_grid_q3_k(float* scale, float* offset, const void* row, int64_t n);

// Rewrites the codes of a stored row (FormatOps::set_row_codes), keeping
// d and scales. row: [n / 256] blocks, in place; codes: [n], each in -4..3.
void set_row_codes_q3_k(void* row, const int32_t* codes, int64_t n);

}  // namespace lmpack
