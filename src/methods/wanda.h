// Wanda: Sun, Liu, Bair, Kolter (2023), "A Simple and Effective Pruning
// Approach for Large Language Models", arXiv:2306.11695. Each weight is scored
//     S_ij = |W_ij| · ‖X_j‖₂,
// X_j the j-th input feature over the N calibration tokens, and each output
// row (the paper's per-output comparison group) prunes its lowest scores:
// round(sparsity·cols) of them, or the n lowest of each group of m
// consecutive inputs for N:M (sparsity.h). No weight update.
// The norms come as a [cols] vector, or from GPTQ's Hessian H = 2/N·XᵀX
// (stats/hessian.h): ‖X_j‖² = N/2·H_jj, and a row's ranking does not change
// under a common scale, so sqrt(H_jj) serves (wanda_column_norms).
// Deviation: none (ties are broken by the lower column index).
#pragma once

#include <cstdint>
#include <vector>

#include "methods/sparsity.h"
#include "stats/hessian.h"

namespace lmpack {

// [cols]: sqrt(H_jj), proportional to ‖X_j‖₂.
std::vector<float> wanda_column_norms(const Hessian& hessian);

// The mask of w [rows, cols] (row-major {out, in}) with col_norms [cols]
// (non-negative, finite). Throws Error on a bad pattern, shape or norm.
SparsityMask wanda_prune_mask(const float* w, int64_t rows, int64_t cols, const float* col_norms,
                              const SparsityPattern& pattern);

}  // namespace lmpack
