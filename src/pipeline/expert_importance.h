// Importance (imatrix) of a mixture of experts. lmpack observes each expert
// apart ("blk.N.ffn_gate_exps.E.weight", model/tensor_names.h); llama.cpp's
// imatrix files and its quantize hold one entry per stacked 3-D tensor
// ("blk.N.ffn_gate_exps.weight": a row of cols per expert, n_mat experts).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/imatrix.h"
#include "model/config.h"

namespace lmpack {

// Replaces every block's per-expert entries by one stacked entry per kind
// (matrices[name] = n_experts); an expert without an entry (never routed)
// gets all 1, as llama.cpp's quantize reads a count of 0. A dense config
// leaves m as it is.
void stack_expert_importance(ImportanceMatrix& m, const ModelConfig& config);

// The importance of `name` [cols]: its own entry, or for an expert its row
// of the stacked entry; empty when there is none. Throws Error("importance",
// ...) for an entry of the wrong size.
std::vector<float> linear_importance(const ImportanceMatrix& m, const std::string& name, int64_t cols,
                                     const ModelConfig& config);

}  // namespace lmpack
