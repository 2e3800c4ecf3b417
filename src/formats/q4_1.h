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

}  // namespace lmpack
