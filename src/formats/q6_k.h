// Q6_K: super-blocks of 256 weights in 16 sub-blocks of 16, 6-bit quants
// offset by 32 with a signed 8-bit scale per sub-block and one fp16
// super-block scale d. 210 bytes per 256 weights = 6.5625 bits per weight.
// GGML type id 14.
//
// Bit layout: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8),
// d (fp16). The 256 weights are two halves of 128 (h = 0, 1); half h uses
// ql[64h ..], qh[32h ..] and scales[8h ..]. Within a half, for l = 0..31:
//   q(l)      = (ql[64h + l]      & 15) | ((qh[32h + l] >> 0) & 3) << 4
//   q(l + 32) = (ql[64h + l + 32] & 15) | ((qh[32h + l] >> 2) & 3) << 4
//   q(l + 64) = (ql[64h + l]      >> 4) | ((qh[32h + l] >> 4) & 3) << 4
//   q(l + 96) = (ql[64h + l + 32] >> 4) | ((qh[32h + l] >> 6) & 3) << 4
//   x[128h + i] = d * scales[8h + i / 16] * (q(i) - 32)        i = 0..127
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];       // low 4 bits
  uint8_t qh[kQK_K / 4];       // high 2 bits
  int8_t scales[kQK_K / 16];   // per sub-block scales
  uint16_t d;                  // super-block scale (fp16)
};
static_assert(sizeof(BlockQ6_K) == 210, "block_q6_K is 210 bytes in GGML");

// out: [n] floats; in: [n / 256] blocks; n a multiple of 256.
void dequantize_row_q6_k(float* out, const void* in, int64_t n);
// The variants it picks between on active_isa(), the same floats bit for bit
// (the AVX2 one in formats/dequantize_avx2.cpp).
void dequantize_row_q6_k_scalar(float* out, const void* in, int64_t n);
void dequantize_row_q6_k_avx2(float* out, const void* in, int64_t n);

// out: [n / 256] blocks; in: [n]; importance: [n] or nullptr. Per 16-value
// sub-block a symmetric scale search (k_search_symmetric, weights x^2, or
// the importance itself when given), then int8 scales against fp16 d with
// the largest scale at -128 (GGML's quantize_row_q6_K_ref / _impl).
void quantize_row_q6_k(void* out, const float* in, int64_t n, const float* importance);

// The grid of a stored row (FormatOps::row_grid): element j holds exactly
// scale[j] * q + offset[j] for the codes q = -32..31, with scale = d *
// scales[s] for its sub-block s = j / 16, offset -0.
// scale, offset: [n] out; row: [n / 256] blocks.
void row_grid_q6_k(float* scale, float* offset, const void* row, int64_t n);

// Rewrites the codes of a stored row (FormatOps::set_row_codes), keeping
// d and scales. row: [n / 256] blocks, in place; codes: [n], each in -32..31.
void set_row_codes_q6_k(void* row, const int32_t* codes, int64_t n);

}  // namespace lmpack
