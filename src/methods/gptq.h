// GPTQ: Frantar, Ashkboos, Hoefler, Alistarh (2022), "GPTQ: Accurate
// Post-Training Quantization for Generative Pre-trained Transformers",
// arXiv:2210.17323. For one linear layer with weights W [rows, cols] and
// calibration inputs X, it seeks
//     argmin_Ŵ ||W·X - Ŵ·X||²_F,   Ŵ on an integer group grid (grids/int_grid.h),
// using only H = 2·X·Xᵀ/N (stats/hessian.h). Columns are quantized one at a
// time (Algorithm 1); the error of column i, divided by U[i][i], is pushed onto
// the later columns through row i of U, the upper Cholesky factor of H⁻¹
// (H⁻¹ = Uᵀ·U, Step 3 of the paper). Updates beyond the current block of
// block_size columns are applied lazily, one GEMM per block (Step 2).
// Rows are independent given H, so the per-block sweep is threaded over rows.
// The sweep is methods/obs_sweep.h, shared with SparseGPT; the grid any of
// grids/grid.h (integer groups here, GGUF block grids in gptq_format.h).
//
// Steps, as in the reference code: dead columns (H_ii = 0) get H_ii = 1 and
// W[:, i] = 0; act_order permutes columns by descending diag(H); dampening
// adds damp · mean(diag H) to the diagonal; U = chol(chol_inverse(chol(H)))ᵀ.
//
// Deviations from the reference / AutoGPTQ:
//  - act_order always uses static groups (AutoGPTQ's static_groups=True):
//    group g covers the original columns [g·gs, (g+1)·gs) and its parameters
//    come from the unpermuted W before the sweep; g_idx[c] = c / gs.
//  - Without act_order, a group's parameters are found when the sweep reaches
//    its first column, from the fully updated weights, including the updates
//    still pending for columns past the current block. The reference reads W,
//    which misses the in-block updates when group_size < block_size; here the
//    result does not depend on block_size (up to float rounding).
//  - All of the Hessian algebra runs in double; the sweep runs in float.
//  - The symmetric grid is always [-max|w|, max|w|] (see int_grid.h).
#pragma once

#include <cstdint>
#include <vector>

#include "grids/grid.h"
#include "grids/int_grid.h"
#include "grids/quantized_matrix.h"
#include "stats/hessian.h"

namespace lmpack {

struct GptqOptions {
  IntGridSpec grid;           // bits, symmetric, optional MSE clip search
  int64_t group_size = 128;   // > 0, or -1: one group per row (per-channel)
  double damp = 0.01;         // fraction of mean(diag H) added to the diagonal
  int64_t block_size = 128;   // lazy-batch width, > 0
  bool act_order = false;     // quantize columns by descending diag(H)
  // [cols] non-negative per-column weights (e.g. an imatrix) for each group's
  // scale/zero search (grids/int_grid.h find_params), or null for none.
  const float* importance = nullptr;
  // Weights exactly 0 in w stay at the grid value nearest 0 (exactly 0 on
  // every integer grid, the zero point being a code): a pruned model keeps
  // its zeros through GPTQ; their rounding error still feeds later columns.
  bool keep_zeros = false;
};

// GPTQ on w [rows, cols] (row-major {out, in}) with the Hessian of its inputs
// (hessian.cols == cols). Throws Error on bad options or shapes, and when
// H + damp is not positive definite (the message suggests a larger damp).
QuantizedMatrix gptq_quantize(const float* w, int64_t rows, int64_t cols, const Hessian& hessian,
                                 const GptqOptions& options);

// GPTQ onto any grid that a sweep can round onto (grids/grid.h sweepable):
// the result's storage is the grid's. act_order needs a grid whose units can
// be fitted up front (integer groups; format blocks cannot: Error).
struct GptqSweepOptions {
  double damp = 0.01;
  int64_t block_size = 128;
  bool act_order = false;
  bool keep_zeros = false;  // as GptqOptions::keep_zeros
};
QuantizedMatrix gptq_quantize_onto(const Grid& grid, const float* w, int64_t rows, int64_t cols,
                                   const Hessian& hessian, const float* importance, const GptqSweepOptions& options);

// Round-to-nearest baseline on the same grid: each group's parameters from
// its own weights (importance: [cols] weights for find_params, or null),
// every weight rounded independently.
QuantizedMatrix rtn_quantize(const float* w, int64_t rows, int64_t cols, const IntGridSpec& grid,
                                int64_t group_size, const float* importance = nullptr);

}  // namespace lmpack
