// Magnitude pruning (methods/magnitude_prune.h).
#include "methods/magnitude_prune.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"

namespace lmpack {

SparsityMask magnitude_prune_mask(const float* w, int64_t rows, int64_t cols, const SparsityPattern& pattern) {
  validate_sparsity_pattern(pattern);
  if (rows <= 0 || cols <= 0)
    throw Error("magnitude", cat("weight shape must be positive, got [", rows, ", ", cols, "]"));
  SparsityMask mask{rows, cols, std::vector<uint8_t>(static_cast<size_t>(rows * cols))};
  parallel_for(rows, [&](int64_t r) {
    std::vector<float> score(static_cast<size_t>(cols));  // [cols]: |w|
    for (int64_t c = 0; c < cols; ++c) score[c] = std::fabs(w[r * cols + c]);
    select_row_mask(mask.pruned.data() + r * cols, score.data(), cols, pattern);
  });
  return mask;
}

}  // namespace lmpack
