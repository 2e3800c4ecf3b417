// Q4_0: blocks of 32 weights, one fp16 scale, 4-bit unsigned quants offset
// by 8. 18 bytes per 32 weights = 4.5 bits per weight. GGML type id 2.
//
// Bit layout: d (fp16), then qs[16]. Byte j holds element j in its low
// nibble and element j + 16 in its high nibble:
//   x[j]      = d * ((qs[j] & 0x0F) - 8)
//   x[j + 16] = d * ((qs[j] >> 4)   - 8)        j = 0..15
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ4_0 {
  uint16_t d;              // scale (fp16)
  uint8_t qs[kQK / 2];     // nibbles
};
static_assert(sizeof(BlockQ4_0) == 18, "block_q4_0 is 18 bytes in GGML");

// out: [n] floats; in: [n / 32] blocks (any alignment); n a multiple of 32.
void dequantize_row_q4_0(float* out, const void* in, int64_t n);

}  // namespace lmpack
