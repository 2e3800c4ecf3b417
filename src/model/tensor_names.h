// The canonical tensor names (model/checkpoint.h: GGUF's spelling) as data:
// the one place that parses "blk.N.<rest>" and lists a block's linear layers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace lmpack {

// "blk.N.<rest>" -> N and rest; false for other names.
bool split_block(const std::string& name, int64_t* layer, std::string* rest);

// The names after "blk.N." of a block's seven linear weights, in the order
// of the block's stages (and of compression): q, k, v, o, gate, up, down.
const std::vector<std::string>& block_linear_suffixes();

// The canonical names of the seven linear weights of block `layer`, in that order.
std::vector<std::string> block_linear_names(int64_t layer);

// A mixture-of-experts block keeps each expert's matrices apart:
// "blk.N.ffn_gate_exps.E.weight" (kind "ffn_gate_exps", "ffn_up_exps" or
// "ffn_down_exps"), so that calibration and pruning see one linear per
// expert; llama.cpp stacks them in one 3-D "blk.N.ffn_gate_exps.weight".
// The router is "blk.N.ffn_gate_inp.weight" [n_experts, dim].
std::string expert_tensor_name(int64_t layer, const char* kind, int64_t expert);
// The kinds of an expert's matrices, in a block's stage order: gate, up, down.
inline constexpr const char* kExpertKinds[] = {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"};
// "blk.N.ffn_gate_inp.weight"; and whether a name is some block's router.
std::string router_tensor_name(int64_t layer);
bool is_expert_router(const std::string& name);
// Splits "blk.N.<kind>.E.weight" into N, kind and E; false for other names.
bool split_expert_name(const std::string& name, int64_t* layer, std::string* kind, int64_t* expert);

// Block `layer`'s linear weights for this config: the seven above, or for a
// mixture of experts q, k, v, o, then gate, up, down of each expert in turn.
std::vector<std::string> block_linear_names(int64_t layer, const ModelConfig& config);

// True for blk.N.attn_q / attn_k weights and biases: the tensors whose rows
// RoPE rotates (their row order depends on the RoPE layout, model/rope_layout.h).
bool is_query_or_key(const std::string& name);

// True for blk.N.attn_q_norm / attn_k_norm weights (Qwen3): one head's
// [head_dim] RMSNorm weight applied to every head of q or k before RoPE, so
// its elements follow the RoPE layout of one head.
bool is_query_or_key_norm(const std::string& name);

// True for RMSNorm weights: output_norm and blk.N.*norm.weight (attn_norm,
// ffn_norm, the q/k norms, the post-norms).
bool is_norm_weight(const std::string& name);

struct TensorShape {
  std::string name;            // canonical
  std::vector<int64_t> shape;  // {rows, cols} or {n}
};

// Every tensor a model of this config has (rope_freqs.weight, which only some
// llama3-scaled GGUFs carry, aside), in the one order that validation and
// training use: token_embd, output_norm, output (unless tied), then per block
// attn_norm, attn_q/k/v, their biases (attn_qkv_bias), attn_q_norm and
// attn_k_norm (attn_qk_norm), attn_output, post_attention_norm (post_norms),
// ffn_norm,
// ffn_gate, ffn_up, ffn_down (or, for a mixture of experts, ffn_gate_inp and
// each expert's gate, up, down), post_ffw_norm (post_norms).
std::vector<TensorShape> model_tensor_shapes(const ModelConfig& config);

}  // namespace lmpack
