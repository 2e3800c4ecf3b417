// IQ4_NL: blocks of 32 weights, one fp16 scale, 4-bit indices into a fixed
// non-linear table of 16 levels (denser near zero, where weights cluster).
// 18 bytes per 32 weights = 4.5 bits per weight. GGML type id 20.
//
// Bit layout: d (fp16), then qs[16]. Byte j holds the index of element j in
// its low nibble and of element j + 16 in its high nibble (as Q4_0):
//   x[j]      = d * kIq4nlValues[qs[j] & 0x0F]
//   x[j + 16] = d * kIq4nlValues[qs[j] >> 4]    j = 0..15
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

// GGML's kvalues_iq4nl, sorted ascending.
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

struct BlockIq4Nl {
  uint16_t d;              // scale (fp16)
  uint8_t qs[kQK / 2];     // table indices, nibbles
};
static_assert(sizeof(BlockIq4Nl) == 18, "block_iq4_nl is 18 bytes in GGML");

// out: [n] floats; in: [n / 32] blocks; n a multiple of 32.
void dequantize_row_iq4_nl(float* out, const void* in, int64_t n);

// Encoder: per block, a search over 15 candidate scales for the one whose
// table rounding minimizes sum_i w_i (x_i - d t_i)^2, then the indices for
// that scale (GGML's quantize_row_iq4_nl_impl, ntry 7). w_i = x_i^2 without
// importance; importance_i * sqrt(sigma^2 + x_i^2) with it (sigma^2: twice
// the block's mean square). out: [n / 32] blocks; in: [n].
void quantize_row_iq4_nl(void* out, const float* in, int64_t n, const float* importance);

// sum_i w[i] * a[i]; w: [n / 32] IQ4_NL blocks, a: [n / 32] Q8_0 blocks.
float dot_iq4_nl_q8_0_scalar(int64_t n, const void* w, const void* a);

}  // namespace lmpack
