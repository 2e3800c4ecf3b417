// moe_route; see moe_route.h.
#include "kernels/moe_route.h"

#include <algorithm>
#include <cmath>

namespace lmpack {

void moe_route(float* logits, int64_t n_experts, int64_t k, bool renormalize, int32_t* chosen, float* weights) {
  float top = logits[0];
  for (int64_t e = 1; e < n_experts; ++e) top = std::max(top, logits[e]);
  double sum = 0.0;
  for (int64_t e = 0; e < n_experts; ++e) {
    logits[e] = std::exp(logits[e] - top);
    sum += logits[e];
  }
  for (int64_t e = 0; e < n_experts; ++e) logits[e] = static_cast<float>(logits[e] / sum);
  // k passes of a max scan: k is small (2 for Mixtral, 8 for Qwen3-MoE).
  double picked = 0.0;
  for (int64_t j = 0; j < k; ++j) {
    int64_t best = -1;
    for (int64_t e = 0; e < n_experts; ++e) {
      bool taken = false;
      for (int64_t i = 0; i < j; ++i) taken = taken || chosen[i] == e;
      if (!taken && (best < 0 || logits[e] > logits[best])) best = e;
    }
    chosen[j] = static_cast<int32_t>(best);
    weights[j] = logits[best];
    picked += logits[best];
  }
  if (renormalize && picked > 0.0)
    for (int64_t j = 0; j < k; ++j) weights[j] = static_cast<float>(weights[j] / picked);
}

void moe_dispatch(float* logits, int64_t m, int64_t n_experts, int64_t k, bool renormalize,
                  std::vector<std::vector<int64_t>>& rows, std::vector<std::vector<float>>& weights) {
  rows.assign(static_cast<size_t>(n_experts), {});
  weights.assign(static_cast<size_t>(n_experts), {});
  std::vector<int32_t> chosen(static_cast<size_t>(k));
  std::vector<float> w(static_cast<size_t>(k));
  for (int64_t i = 0; i < m; ++i) {
    moe_route(logits + i * n_experts, n_experts, k, renormalize, chosen.data(), w.data());
    for (int64_t j = 0; j < k; ++j) {
      rows[static_cast<size_t>(chosen[j])].push_back(i);
      weights[static_cast<size_t>(chosen[j])].push_back(w[j]);
    }
  }
}

}  // namespace lmpack
