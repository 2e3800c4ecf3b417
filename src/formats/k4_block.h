// Per-super-block steps that Q4_K and Q5_K share: both store 8 sub-blocks of
// 32 values with a 6-bit scale and min each (packed as in format_common.h's
// unpack_scale_min_k4) and differ only in how the levels are stored (Q5_K
// adds a fifth bit per value). Each format's file extracts its own levels;
// these helpers, defined in formats/q4_k.cpp, do the scale/min arithmetic.
#pragma once

#include <cstdint>

#include "formats/q8_k.h"

namespace lmpack {

// y[i] = (d * scale[s]) * L[i] - dmin * min[s] for i < 256 and s = i / 32,
// with L[256] the levels in element order and scales[12] the packed field.
void dequantize_k4_levels(float* y, const uint8_t* scales, float d, float dmin, const uint8_t* levels);

// The grid of one super-block (FormatOps::row_grid): for i < 256 and
// s = i / 32, scale[i] = d * scale[s] and offset[i] = -(dmin * min[s]).
// scale, offset: [256] out; scales[12] the packed field.
void grid_k4_block(float* scale, float* offset, const uint8_t* scales, float d, float dmin);

// The term of one super-block in a dot with a Q8_K block: with the exact
// integers isum = sum_i scale[s] * L[i] * q8[i] and msum = sum_s min[s] *
// (bsums[2s] + bsums[2s + 1]), k_dot_block_term(a.d * d, isum, a.d * dmin,
// msum), d and dmin the block's fp16 fields. levels: [256] in element order.
float k4_levels_dot_q8_k(const uint8_t* levels, const uint8_t* scales, uint16_t d, uint16_t dmin, const BlockQ8_K& a);

}  // namespace lmpack
