#include "train/losses.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lmpack {

double cross_entropy(float* dlogits, const float* logits, const int32_t* targets, int64_t rows, int64_t vocab) {
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (targets[r] >= vocab)
      throw Error("targets", cat("target ", targets[r], " at row ", r, " is outside the vocabulary [0, ", vocab, ")"));
    if (targets[r] >= 0) ++counted;
  }
  const double inv = counted > 0 ? 1.0 / static_cast<double>(counted) : 0.0;
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* z = logits + r * vocab;
    float* d = dlogits + r * vocab;
    if (targets[r] < 0) {
      std::fill(d, d + vocab, 0.0f);
      continue;
    }
    const float max = *std::max_element(z, z + vocab);
    double sum = 0.0;
    for (int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(z[i] - max));
    const double log_sum = std::log(sum) + max;
    total += log_sum - z[targets[r]];
    for (int64_t i = 0; i < vocab; ++i) d[i] = static_cast<float>(std::exp(static_cast<double>(z[i]) - log_sum) * inv);
    d[targets[r]] -= static_cast<float>(inv);
  }
  return total * inv;
}

}  // namespace lmpack
