// Stacked storage of matrices lmpack keeps apart.
//
// Phi-3 stores a block's q, k, v projections as one matrix (qkv_proj, GGUF
// attn_qkv) and gate, up as one (gate_up_proj, GGUF ffn_up of twice the FFN
// width): rows stacked in that order. lmpack's canonical checkpoint keeps
// every projection apart, so that calibration, pruning and the forward
// passes see one linear per role; loaders split the fused tensors here and
// writers stack the parts back (their rows in the same order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/checkpoint.h"

namespace lmpack {

// A fused tensor of block `layer`: its canonical fused name and the
// canonical parts, in row order.
struct FusedProjection {
  std::string fused;               // "blk.N.attn_qkv.weight" or "blk.N.ffn_gate_up.weight"
  std::vector<std::string> parts;  // attn_q, attn_k, attn_v / ffn_gate, ffn_up
};

// The two fused projections of block `layer`.
std::vector<FusedProjection> fused_projections(int64_t layer);

// The fused projection `canonical` is a part of, and the part's index; false
// for a tensor that is no part of one.
bool find_fused_part(const std::string& canonical, FusedProjection* fused, int* part);

// Replaces every blk.N.attn_qkv.weight and blk.N.ffn_gate_up.weight by its
// parts: views of the same bytes (rows are whole in every type), sized by
// the config (q_dim, kv_dim, kv_dim; hidden_dim, hidden_dim), which must be
// validated (ModelConfig::validate). Throws Error(ckpt.path, ...) naming a
// fused tensor whose rows do not add up.
void split_fused_projections(Checkpoint& ckpt);

// llama.cpp stacks a mixture of experts' matrices in one 3-D tensor per kind,
// blk.N.ffn_{gate,up,down}_exps.weight [n_experts, rows, cols]: replaced here
// by one view per expert (model/tensor_names.h expert_tensor_name). Throws
// Error(ckpt.path, ...) for a stack whose expert count is not the config's.
void split_stacked_experts(Checkpoint& ckpt);

}  // namespace lmpack
