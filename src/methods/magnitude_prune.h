// Magnitude pruning: the baseline of the pruning methods (as in Han et al.,
// 2015, "Learning both Weights and Connections for Efficient Neural
// Networks", arXiv:1506.02626, and the magnitude baseline of SparseGPT and
// Wanda). Objective: none beyond keeping the largest |W_ij|; no calibration
// data. The comparison group is each output row (the LLM papers' choice):
// a row prunes its round(sparsity·cols) smallest |w| (unstructured) or the
// n smallest of each group of m consecutive weights (N:M); see sparsity.h.
// Deviation: none beyond the per-row group (the 2015 paper thresholds the
// whole layer).
#pragma once

#include <cstdint>

#include "methods/sparsity.h"

namespace lmpack {

// The mask of w [rows, cols] (row-major {out, in}). Throws Error on a bad
// pattern or shape.
SparsityMask magnitude_prune_mask(const float* w, int64_t rows, int64_t cols, const SparsityPattern& pattern);

}  // namespace lmpack
