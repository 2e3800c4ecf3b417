// Wanda pruning (methods/wanda.h).
#include "methods/wanda.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"

namespace lmpack {

std::vector<float> wanda_column_norms(const Hessian& hessian) {
  if (hessian.cols <= 0 || static_cast<int64_t>(hessian.h.size()) != hessian.cols * hessian.cols)
    throw Error("wanda", cat("Hessian is empty or not [cols, cols] (cols ", hessian.cols, ", ", hessian.h.size(),
                             " entries)"));
  std::vector<float> norms(static_cast<size_t>(hessian.cols));
  for (int64_t j = 0; j < hessian.cols; ++j)
    norms[j] = static_cast<float>(std::sqrt(std::max(0.0, hessian.h[j * hessian.cols + j])));
  return norms;
}

SparsityMask wanda_prune_mask(const float* w, int64_t rows, int64_t cols, const float* col_norms,
                              const SparsityPattern& pattern) {
  validate_sparsity_pattern(pattern);
  if (rows <= 0 || cols <= 0) throw Error("wanda", cat("weight shape must be positive, got [", rows, ", ", cols, "]"));
  for (int64_t j = 0; j < cols; ++j)
    if (!(col_norms[j] >= 0.0f) || !std::isfinite(col_norms[j]))
      throw Error("wanda", cat("input norm of column ", j, " must be finite and >= 0, got ", col_norms[j]));
  SparsityMask mask{rows, cols, std::vector<uint8_t>(static_cast<size_t>(rows * cols))};
  parallel_for(rows, [&](int64_t r) {
    std::vector<float> score(static_cast<size_t>(cols));  // [cols]: |W_rj|·‖X_j‖
    for (int64_t c = 0; c < cols; ++c) score[c] = std::fabs(w[r * cols + c]) * col_norms[c];
    select_row_mask(mask.pruned.data() + r * cols, score.data(), cols, pattern);
  });
  return mask;
}

}  // namespace lmpack
