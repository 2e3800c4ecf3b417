// The per-block scalar steps that Q8_0 and Q8_1 share (their blocks differ
// only in Q8_1's extra fp16 field s = d * sum of the quants). Defined in
// formats/q8_0.cpp, which builds, like every encoder file, without FMA
// contraction so that the bytes match GGML's. Each format's file keeps its
// own layout and row loops; these helpers see only the 32 quants.
#pragma once

#include <cstdint>

namespace lmpack {

// Quantizes the 32 floats x to qs: d = max|x| / 127, q = round(x / d) (half
// away from zero), as GGML's quantize_row_q8_0/q8_1_ref. Returns d (fp32)
// and writes *sum = sum of the 32 quants.
float quantize_block_q8_scalar(int8_t* qs, const float* x, int* sum);

// y[j] = d * qs[j] for the 32 quants of one block.
void dequantize_block_q8(float* y, float d, const int8_t* qs);

// sum_j x[j] * y[j] over the 32 quants of two blocks (exact).
int dot_block_q8_q8(const int8_t* x, const int8_t* y);

}  // namespace lmpack
