// Q4_K: super-blocks of 256 weights in 8 sub-blocks of 32, 4-bit unsigned
// quants with a 6-bit scale and 6-bit min per sub-block, and fp16 super-block
// scales d and dmin. 144 bytes per 256 weights = 4.5 bits per weight.
// GGML type id 12.
//
// Bit layout: d (fp16), dmin (fp16), scales[12], qs[128].
//   scales[12] packs 8 (scale, min) pairs of 6 bits: see unpack_scale_min_k4
//   in formats/format_common.h.
//   Weights come in 4 chunks of 64 (c = 0..3), chunk c using qs[32c .. 32c+31]:
//     x[64c + l]      = d * sc[2c]     * (qs[32c + l] & 15) - dmin * mn[2c]
//     x[64c + 32 + l] = d * sc[2c + 1] * (qs[32c + l] >> 4) - dmin * mn[2c + 1]
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ4_K {
  uint16_t d;                    // super-block scale for scales (fp16)
  uint16_t dmin;                 // super-block scale for mins (fp16)
  uint8_t scales[kKScaleBytes];  // 6-bit scales and mins
  uint8_t qs[kQK_K / 2];         // nibbles
};
static_assert(sizeof(BlockQ4_K) == 144, "block_q4_K is 144 bytes in GGML");

// out: [n] floats; in: [n / 256] blocks; n a multiple of 256.
void dequantize_row_q4_k(float* out, const void* in, int64_t n);
// The variants it picks between on active_isa(), the same floats bit for bit
// (the AVX2 one in formats/dequantize_avx2.cpp).
void dequantize_row_q4_k_scalar(float* out, const void* in, int64_t n);
void dequantize_row_q4_k_avx2(float* out, const void* in, int64_t n);

// out: [n / 256] blocks; in: [n]; importance: [n] or nullptr. Per 32-value
// sub-block an affine (scale, min) search, then 6-bit scales and mins against
// fp16 d and dmin (k_encode_scale_min_8x32 in formats/k_quant_search.h; GGML's
// quantize_row_q4_K_ref without importance, quantize_row_q4_K_impl with).
void quantize_row_q4_k(void* out, const float* in, int64_t n, const float* importance);

// The grid of a stored row (FormatOps::row_grid): element j holds exactly
// scale[j] * q + offset[j] for the codes q = 0..15, with scale = d * sc[s],
// offset = -dmin * mn[s] for its sub-block s = j / 32.
// scale, offset: [n] out; row: [n / 256] blocks.
void row_grid_q4_k(float* scale, float* offset, const void* row, int64_t n);

// Rewrites the codes of a stored row (FormatOps::set_row_codes), keeping
// d, dmin and scales. row: [n / 256] blocks, in place; codes: [n], each in 0..15.
void set_row_codes_q4_k(void* row, const int32_t* codes, int64_t n);

}  // namespace lmpack
