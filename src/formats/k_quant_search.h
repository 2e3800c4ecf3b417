// Scale searches of the k-quant encoders (Q2_K ... Q6_K). Each one takes a
// sub-block x[n] (16 or 32 values) with non-negative weights w[n] and picks
// a scale (and for the affine formats a minimum) plus integer levels that
// make sum_i w[i] * (x[i] - value(level[i]))^2 (or |.| with use_mad) small.
// They follow GGML's k-quant searches (ggml-quants.c: make_qx_quants,
// make_q3_quants, make_qkx2_quants / make_qkx3_quants, make_qp_quants) down
// to the order of operations (sums in element order, (w l) l, no FMA
// contraction), so that our files are byte-identical to llama.cpp's
// (tests/formats/ggml_bytes_test.cpp); the code is our own. The encoders
// call the eight-lane versions in formats/k_quant_search_x8.h, which give
// these functions' results bit for bit; these stay as their reference.
//
// All functions are total: an all-zero (or constant-zero) block gives scale 0
// and levels 0, NaN-free; out-of-range products are clamped before rounding.
#pragma once

#include <cmath>
#include <cstdint>

namespace lmpack {

// Round v to the nearest integer (ties to even, as GGML's nearest_int) after
// clamping it to [lo, hi]; NaN gives lo.
inline int k_round(float v, int lo, int hi) {
  if (!(v >= static_cast<float>(lo))) return lo;
  if (v > static_cast<float>(hi)) return hi;
  return static_cast<int>(std::nearbyint(v));
}

// k_round as a float: v clamped to [lo, hi] (integers), then rounded to the
// nearest integer, ties to even; NaN gives lo.
inline float k_round_clamped(float v, float lo, float hi) {
  v = v > lo ? v : lo;  // NaN -> lo
  v = v < hi ? v : hi;
  return std::nearbyint(v);
}

// Symmetric levels with a signed scale: value(l) = scale * (L[i] - nmax),
// L[i] in [0, 2 * nmax - 1]; n a multiple of 8, at most 32. The fan of 19
// candidate inverse scales -(nmax + 0.1 k) / max (k = -9..9) around the
// max-magnitude one; each is scored by the weighted least-squares fit.
// w == nullptr weighs by x^2. Returns the scale (GGML make_qx_quants with
// rmse_type 1).
float k_search_symmetric(int n, int nmax, const float* x, const float* w, int8_t* L);

// Symmetric levels refined by coordinate descent (each level moved to its
// best value given the others, up to 5 sweeps), weights x^2. L[i] in
// [0, 2 * nmax - 1] as above. Returns the scale (GGML make_q3_quants).
float k_search_symmetric_refine(int n, int nmax, const float* x, int8_t* L);

// Affine levels: value(l) = scale * L[i] - *neg_min, L[i] in [0, nmax],
// with the minimum -*neg_min <= 0; n a multiple of 8, at most 32. Starts
// from the min-max fit, then tries inverse scales (rmin + rdelta * k + nmax)
// / (max - min), k = 0..nstep, solving the weighted least-squares (scale,
// min) for each candidate's levels; keeps the best by weighted squared (or
// absolute, use_mad) error. w: [n], required.
// Returns the scale (GGML make_qkx2_quants / make_qkx3_quants).
float k_search_affine(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min,
                      float rmin, float rdelta, int nstep, bool use_mad);

// Non-negative values (the sub-block scales or mins of a super-block) on
// levels value(l) = scale * L[i], L[i] in [0, nmax]: a fan of 9 candidate
// scales then coordinate descent, weighted by w. Returns the scale (GGML
// make_qp_quants).
float k_search_positive(int n, int nmax, const float* x, const float* w, uint8_t* L);

// sum x^2 over n values.
float k_sum_squares(const float* x, int n);

// One Q4_K/Q5_K super-block x[256]: 8 sub-blocks of 32 on levels 0..nmax
// (15 or 31). Without importance (nullptr): GGML's reference search, weights
// sqrt(mean x^2 of the sub-block) + |x_i|, fan rmin + 0.1 k (k = 0..nstep),
// scales and mins rounded against their maxima. With importance[256]:
// weights importance_i * sqrt(2 mean x^2 + x_i^2), a wider fan (-0.9 +
// 0.05 k, k = 0..36), and the 6-bit scales and mins fitted by
// k_search_positive. Writes scales12 (packed as pack_scale_min_k4), the
// fp16 bits of d and dmin, and the final levels L[256] requantized against
// the stored scales.
void k_encode_scale_min_8x32(const float* x, const float* importance, int nmax, float ref_rmin, int ref_nstep,
                             uint8_t* scales12, uint16_t* d, uint16_t* dmin, uint8_t* L);

}  // namespace lmpack
