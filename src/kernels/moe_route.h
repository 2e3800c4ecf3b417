// Mixture-of-experts routing of one token (Mixtral, Qwen3-MoE): softmax over
// all experts' router logits, the k most probable experts, their
// probabilities renormalized to sum 1 when asked (Mixtral always; Qwen3-MoE's
// norm_topk_prob). The forward passes and calibration gather each expert's
// tokens from these choices.
#pragma once

#include <cstdint>
#include <vector>

namespace lmpack {

// logits: [n_experts] (overwritten with the probabilities); chosen, weights:
// [k] out, most probable first (ties: the lower index first).
void moe_route(float* logits, int64_t n_experts, int64_t k, bool renormalize, int32_t* chosen, float* weights);

// The routes of m rows grouped by expert: logits [m, n_experts] (overwritten
// with probabilities); rows[e] the rows routed to expert e in increasing
// order, weights[e] their weights (both resized to n_experts lists).
void moe_dispatch(float* logits, int64_t m, int64_t n_experts, int64_t k, bool renormalize,
                  std::vector<std::vector<int64_t>>& rows, std::vector<std::vector<float>>& weights);

}  // namespace lmpack
