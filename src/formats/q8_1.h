// Q8_1: blocks of 32 values, an fp16 scale, an fp16 "sum" and signed 8-bit
// quants. 36 bytes per 32 values = 9 bits per value. GGML type id 9.
// An activation format only: the dot products of Q4_1 and Q5_1 take their
// activations as Q8_1, whose stored sum s lets the weight's minimum m be
// applied once per block: sum_j (d_w q_j + m)(d_a a_j) = d_w d_a sum q_j a_j + m s.
//
// Bit layout: d (fp16), s (fp16) = d * sum_j qs[j] (computed from the fp32
// d, rounded to fp16), then qs[32] as int8:
//   x[j] = d * qs[j]                            j = 0..31
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ8_1 {
  uint16_t d;          // scale (fp16)
  uint16_t s;          // d * sum(qs) (fp16)
  int8_t qs[kQK];      // quants
};
static_assert(sizeof(BlockQ8_1) == 36, "block_q8_1 is 36 bytes in GGML");

// out: [n] floats; in: [n / 32] blocks; n a multiple of 32.
void dequantize_row_q8_1(float* out, const void* in, int64_t n);

// GGML's reference rounding (as Q8_0) plus the sum; importance is ignored.
// Runs the best SIMD variant; all variants write the same bytes.
// out: [n / 32] blocks; in: [n]; n a multiple of 32.
void quantize_row_q8_1(void* out, const float* in, int64_t n, const float* importance);
void quantize_row_q8_1_scalar(void* out, const float* in, int64_t n);

// sum_i w[i] * a[i]; w, a: [n / 32] Q8_1 blocks. For completeness of the
// traits table (no weight is stored as Q8_1); scalar only.
float dot_q8_1_q8_1_scalar(int64_t n, const void* w, const void* a);

}  // namespace lmpack
