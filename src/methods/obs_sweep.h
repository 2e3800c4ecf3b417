// The one OBS column sweep behind GPTQ (methods/gptq.h, onto any grid) and
// SparseGPT (methods/sparsegpt.h, with or without a grid).
//
// Optimal Brain Surgeon, in the column order of GPTQ (Frantar et al. 2022,
// arXiv:2210.17323, Algorithm 1) and SparseGPT (Frantar & Alistarh 2023,
// arXiv:2301.00774, Algorithm 1): for w [rows, cols] and H = 2XᵀX/N of its
// inputs, columns are visited one at a time; column i's weights get their new
// value ŵ (rounded onto a grid, pruned to 0, or both), and the error
// (w - ŵ)/U_ii is pushed onto the later columns through row i of U, the upper
// Cholesky factor of H⁻¹ (H⁻¹ = UᵀU). Updates beyond the current lazy batch
// of block_size columns are applied once per batch with one GEMM. Rows are
// independent given H: each batch is threaded over rows.
//
// Hessian preparation (methods/gptq_hessian.h): dead columns (H_ii = 0) get
// H_ii = 1 and W[:, i] = 0; act_order permutes columns by descending diag(H);
// dampening adds damp · mean(diag H); U from one factorisation.
//
// The grid (grids/grid.h) fits each unit (an integer group, a format block)
// when the sweep reaches the unit's first column, from the unit's current
// values with every update so far, the lazy ones still pending included (so
// the result does not depend on block_size); with act_order every unit is
// fitted up front from the unpermuted weights (static groups; integer grids
// only). The batch width is rounded up to a multiple of the grid's alignment
// and of the N:M group, so that neither straddles two batches.
//
// Pruning (SparseGPT's adaptive mask, §3.2): unstructured, when the sweep
// reaches a batch each row prunes its share of it (pruned_before(b1) -
// pruned_before(b0), so every row ends with exactly round(s·cols)) by the
// OBS score w²/U_ii² of its current weights; N:M, each group of m columns
// picks its n lowest scores when the sweep reaches it. With a grid, a unit is
// fitted to the weights pruning alone would leave in it (its pruned positions
// set to 0 and their OBS updates applied inside the unit; N:M groups inside
// the unit are chosen in that look-ahead and kept by the sweep): fitting to
// the dense weights would let the large in-unit pruning updates clip.
// A pruned position, and with keep_zeros an input weight that is exactly 0,
// gets the grid value for 0 (exactly 0 on integer grids and the symmetric
// formats).
#pragma once

#include <cstdint>
#include <vector>

#include "grids/grid.h"
#include "methods/sparsity.h"
#include "stats/hessian.h"

namespace lmpack {

struct ObsSweepOptions {
  double damp = 0.01;         // fraction of mean(diag H) added to the diagonal
  int64_t block_size = 128;   // lazy batch (and unstructured mask-selection) width, > 0
  bool act_order = false;     // columns by descending diag(H); needs a grid that fits up front, no pruning
  bool keep_zeros = false;    // input weights exactly 0 stay at the grid's value for 0
  const SparsityPattern* prune = nullptr;  // SparseGPT's adaptive mask, or null
  const char* where = "gptq";              // names the method in errors
};

struct ObsSweepResult {
  std::vector<float> weights;  // [rows, cols]: Ŵ when there is no grid (else in the grid's result)
  SparsityMask mask;           // with options.prune
};

// Sweeps w [rows, cols] (hessian.cols == cols) onto grid (null: no rounding,
// pruning only). Throws Error(where, ...) on bad shapes or options and when
// H + damp is not positive definite.
ObsSweepResult obs_sweep(const float* w, int64_t rows, int64_t cols, const Hessian& hessian, GridSweep* grid,
                         const ObsSweepOptions& options);

}  // namespace lmpack
