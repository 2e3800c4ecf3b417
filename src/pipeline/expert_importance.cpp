// Expert importance; see expert_importance.h.
#include "pipeline/expert_importance.h"

#include "core/error.h"
#include "model/tensor_names.h"

namespace lmpack {

void stack_expert_importance(ImportanceMatrix& m, const ModelConfig& c) {
  if (!c.is_moe()) return;
  for (int64_t l = 0; l < c.n_layers; ++l) {
    for (const char* kind : kExpertKinds) {
      const int64_t cols = std::string(kind) == "ffn_down_exps" ? c.expert_hidden_dim : c.dim;
      std::vector<float> stacked;
      bool any = false;
      for (int64_t e = 0; e < c.n_experts; ++e) {
        auto it = m.values.find(expert_tensor_name(l, kind, e));
        if (it != m.values.end() && static_cast<int64_t>(it->second.size()) == cols) {
          stacked.insert(stacked.end(), it->second.begin(), it->second.end());
          any = true;
        } else {
          stacked.insert(stacked.end(), static_cast<size_t>(cols), 1.0f);
        }
        if (it != m.values.end()) m.values.erase(it);
      }
      if (!any) continue;
      const std::string name = cat("blk.", l, ".", kind, ".weight");
      m.values[name] = std::move(stacked);
      m.matrices[name] = c.n_experts;
    }
  }
}

std::vector<float> linear_importance(const ImportanceMatrix& m, const std::string& name, int64_t cols,
                                     const ModelConfig& c) {
  auto it = m.values.find(name);
  if (it != m.values.end()) {
    if (static_cast<int64_t>(it->second.size()) != cols)
      throw Error("importance", cat(name, ": ", it->second.size(), " importance values, the tensor has ", cols,
                                    " columns"));
    return it->second;
  }
  int64_t layer = 0, expert = 0;
  std::string kind;
  if (!split_expert_name(name, &layer, &kind, &expert)) return {};
  const std::string stacked = cat("blk.", layer, ".", kind, ".weight");
  it = m.values.find(stacked);
  if (it == m.values.end()) return {};
  if (static_cast<int64_t>(it->second.size()) != cols * c.n_experts)
    throw Error("importance", cat(stacked, ": ", it->second.size(), " importance values, its ", c.n_experts,
                                  " experts have ", cols, " columns each"));
  const auto first = it->second.begin() + expert * cols;
  return std::vector<float>(first, first + cols);
}

}  // namespace lmpack
