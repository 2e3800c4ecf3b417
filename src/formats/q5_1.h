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

}  // namespace lmpack
