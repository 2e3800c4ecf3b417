// Weighted scale searches shared by the 32-element block formats (Q4_0 ...
// IQ4_NL): given a block x[n] and non-negative weights w[n], choose a scale
// (and, for the affine formats, a minimum) and the integer levels that make
// sum_i w[i] * (x[i] - value(level[i]))^2 small. They follow the searches of
// GGML's make_qx_quants / make_qkx3_quants and quantize_row_iq4_nl_impl:
// try a fan of candidate scales around the max-abs (or min-max) one, solve
// the least-squares scale for the levels each candidate rounds to, keep the
// best. Used by the encoders when per-column importance is given.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace lmpack {

// Round to nearest, ties to even, as an int, for |v| < 2^22 (callers clamp
// first): adding 1.5 * 2^23 leaves the rounded integer in the low mantissa
// bits. Far cheaper than nearbyintf, which guards the FP environment.
inline int nearest_int(float v) {
  const float biased = v + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &biased, 4);
  return (bits & 0x007FFFFF) - 0x00400000;
}

// Symmetric levels: value(l) = d * (l - nmax), l in [0, 2*nmax - 1] written
// to levels[n]. Returns d (0 for an all-zero block). x: [n]; w: [n].
float search_scale_symmetric(int n, int nmax, const float* x, const float* w, uint8_t* levels);

// Affine levels: value(l) = d * l - neg_min, l in [0, nmax], with the
// minimum -neg_min <= 0. Returns d and writes *neg_min (so the block's stored
// minimum is -*neg_min). x: [n]; w: [n]; levels: [n].
float search_scale_affine(int n, int nmax, const float* x, const float* w, uint8_t* levels, float* neg_min);

// Non-linear levels: value(l) = d * table[l], table[16] sorted ascending.
// Index of the entry nearest to v (ties go to the larger entry).
int nearest_table_index(const int8_t* table, float v);
// Searches d over 2*ntry+1 candidates; returns d (0 for an all-zero block).
float search_scale_table(int n, const int8_t* table, const float* x, const float* w, int ntry, uint8_t* levels);

// sigma^2 = sum x^2 / n of a whole row, the base of GGML's importance
// weights w_i = importance_i * sqrt(sigma^2 + x_i^2).
float row_mean_square(const float* x, int64_t n);
// w[j] = importance[j] * sqrt(sigma2 + x[j]^2), j < n.
void importance_weights(float* w, const float* x, const float* importance, int n, float sigma2);

}  // namespace lmpack
