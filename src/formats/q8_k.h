// Q8_K: the activation format the k-quant dot products read. Super-blocks of
// 256 values as int8 with one fp32 scale, plus the sums of each 16 quants so
// that a dot product can apply per-sub-block minimums / offsets without
// touching the quants again. 292 bytes per 256 values. GGML type id 15; it is
// never stored in files.
//
// Bit layout: d (fp32), qs[256] (int8), bsums[16] (int16):
//   x[i] = d * qs[i];  bsums[j] = sum_{i < 16} qs[16 j + i].
// Quantization follows GGML's: d = max / -127 where max is the value of
// largest magnitude (so that value becomes -127 exactly), qs = round(x / d)
// capped at 127; an all-zero block has d = 0 and zero quants.
#pragma once

#include <cstdint>

#include "formats/format_common.h"

namespace lmpack {

struct BlockQ8_K {
  float d;                       // scale
  int8_t qs[kQK_K];              // quants
  int16_t bsums[kQK_K / 16];     // sums of each 16 quants
};
static_assert(sizeof(BlockQ8_K) == 292, "block_q8_K is 292 bytes in GGML");

// out: [n / 256] blocks; in: [n]; n a multiple of 256. importance is ignored
// (activations have none); it is there to fit the FormatOps signature.
void quantize_row_q8_k(void* out, const float* in, int64_t n, const float* importance);
// out: [n] floats; in: [n / 256] blocks.
void dequantize_row_q8_k(float* out, const void* in, int64_t n);
// sum_i w[i] * a[i] with both rows Q8_K (completes the FormatOps row; exact
// integer sums per block). w, a: [n / 256] blocks.
float dot_q8_k_q8_k_scalar(int64_t n, const void* w, const void* a);

}  // namespace lmpack
