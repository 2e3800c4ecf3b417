// SparseGPT: Frantar & Alistarh (2023), "SparseGPT: Massive Language Models
// Can Be Accurately Pruned in One-Shot", arXiv:2301.00774. For one linear
// layer with weights W [rows, cols] and calibration inputs X it seeks
//     argmin_{M, Ŵ} ||W·X - (M ⊙ Ŵ)·X||²_F,   M a sparsity mask (sparsity.h),
// with only H = 2·X·Xᵀ/N (stats/hessian.h). GPTQ's column sweep (gptq.h,
// same Hessian preparation: dead columns, damp, U = chol(H⁻¹)ᵀ, lazy batch
// updates), where column i's weights become 0 (pruned) or stay (optionally
// rounded onto a grid), and the error (w - ŵ)/U_ii is pushed onto the later
// columns through row i of U (the OBS update, Algorithm 1 of the paper).
// Adaptive mask selection (§3.2): unstructured, when the sweep reaches a batch
// of block_size columns each row prunes its share of the batch (see
// deviations) by the OBS score w²/U_ii² on the current weights; N:M, each
// group of m columns picks its n lowest scores when the sweep reaches it.
// The sweep is methods/obs_sweep.h (shared with GPTQ), the grids
// grids/grid.h.
// Joint sparsification and quantization (§3.4): kept weights are rounded in
// the same sweep onto an integer group grid (grids/int_grid.h, group
// parameters as in gptq.cpp) or onto a GGUF block grid (as gptq_format.cpp:
// the format's encoder picks a block's scales from its current weights, codes
// go in with set_row_codes). A pruned position gets the code whose value is
// nearest 0: exactly 0 on integer grids (the zero point is an integer code)
// and on the symmetric formats (Q4_0, Q5_0, Q8_0, Q3_K, Q6_K); the formats
// with mins (Q4_1, Q5_1, Q2_K, Q4_K, Q5_K) may miss 0, counted in
// SparseGptResult::pruned_nonzero.
//
// Deviations from the reference code (IST-DASLab/sparsegpt, fasterprune):
//  - Unstructured masks are exact per row: row r prunes
//    round(s·b1) - round(s·b0) of the batch [b0, b1) (so each row ends with
//    exactly round(s·cols)); the reference thresholds the batch's scores over
//    all rows together, so rows end with different counts.
//  - The batch width is rounded up to a multiple of m (N:M) and of the format
//    block, so an N:M group or a format block never straddles two batches
//    (the reference assumes block_size % m == 0).
//  - With a quantizer, a group's (or block's) grid is found when the sweep
//    reaches its first column, from the weights pruning alone would leave in
//    it: the current weights with the group's pruned positions set to 0 and
//    their OBS updates applied inside the group (the reference fits one
//    per-channel grid to the dense weights before the sweep; fitting to the
//    current weights instead clips the large in-block pruning updates). The
//    N:M masks of the m-column groups inside it are chosen in that look-ahead
//    (scores from the pruning-only weights) and kept by the sweep; the masks
//    of unstructured batches not reached yet count as kept.
//  - act_order is not offered (the mask batches hold consecutive columns).
//  - Hessian algebra in double, the sweep in float, as gptq.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/dtype.h"
#include "grids/grid.h"
#include "grids/int_grid.h"
#include "grids/quantized_matrix.h"
#include "methods/gptq.h"
#include "methods/gptq_format.h"
#include "methods/sparsity.h"
#include "stats/hessian.h"

namespace lmpack {

struct SparseGptOptions {
  double damp = 0.01;         // fraction of mean(diag H) added to the diagonal
  int64_t block_size = 128;   // lazy batch = unstructured mask-selection width, > 0
  // Joint quantization, at most one of the two:
  std::optional<IntGridSpec> int_grid;  // kept weights on integer groups ...
  int64_t group_size = 128;             // ... of this many columns (> 0, or -1: per row)
  std::optional<DType> format;          // kept weights on this GGUF block grid
  // [cols] non-negative weights for the grid search (find_params /
  // quantize_row importance), or null.
  const float* importance = nullptr;
};

struct SparseGptResult {
  SparsityMask mask;                 // [rows, cols]
  std::vector<float> weights;        // [rows, cols]: Ŵ, pruned (and dequantized when quantized)
  // With options.int_grid or options.format: the matrix on that grid
  // (integer groups, or the format's encoded bytes).
  std::optional<QuantizedMatrix> quantized;
  int64_t pruned_nonzero = 0;        // pruned positions whose final value is not exactly 0
};

// SparseGPT on w [rows, cols] (row-major {out, in}) with the Hessian of its
// inputs (hessian.cols == cols). Throws Error on a bad pattern (sparsity,
// pattern), bad options or shapes, a format without a block grid or whose
// block does not divide cols, and when H + damp is not positive definite.
SparseGptResult sparsegpt_prune(const float* w, int64_t rows, int64_t cols, const Hessian& hessian,
                                const SparsityPattern& pattern, const SparseGptOptions& options);

// The same onto any grid a sweep can round onto (grids/grid.h), or none
// (grid null); options.int_grid and options.format must be unset.
SparseGptResult sparsegpt_prune_onto(const Grid* grid, const float* w, int64_t rows, int64_t cols,
                                     const Hessian& hessian, const SparsityPattern& pattern,
                                     const SparseGptOptions& options);

}  // namespace lmpack
