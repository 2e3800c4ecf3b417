// The row loops of the activation quantizers to Q8_0 and Q8_1, shared by the
// scalar references (q8_0.cpp, q8_1.cpp) and the SIMD variants
// (quantize_q8_avx2.cpp, quantize_q8_avx512.cpp). Each file supplies its own
// block quantizer Block(qs, x, &sum) -> d (32 int8 quants written to qs, their
// sum to sum, the fp32 scale returned); these loops only store the blocks in
// their formats' layouts. The templates live in an anonymous namespace
// (internal linkage; see DEVELOPERS.md "SIMD files"), so no copy compiled
// with AVX-512 flags can serve another path. Their only float step, d * sum,
// has nothing to contract into an FMA.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/dtype.h"
#include "formats/format_common.h"
#include "formats/q8_0.h"
#include "formats/q8_1.h"

namespace lmpack {
namespace {

using Q8BlockFn = float (*)(int8_t* qs, const float* x, int* sum);

// n / 32 blocks of Q8_0: d (fp16), 32 quants.
template <Q8BlockFn Block>
void quantize_rows_q8_0(void* out, const float* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ8_0 blk;
    int sum;
    blk.d = f32_to_fp16(Block(blk.qs, in + b * kQK, &sum));
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ8_0), &blk, sizeof blk);
  }
}

// n / 32 blocks of Q8_1: d (fp16), s = d * sum(quants) (fp16), 32 quants.
template <Q8BlockFn Block>
void quantize_rows_q8_1(void* out, const float* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ8_1 blk;
    int sum;
    const float d = Block(blk.qs, in + b * kQK, &sum);
    blk.d = f32_to_fp16(d);
    blk.s = f32_to_fp16(static_cast<float>(sum) * d);
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ8_1), &blk, sizeof blk);
  }
}

}  // namespace
}  // namespace lmpack
