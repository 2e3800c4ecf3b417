// Float views of a checkpoint's weights for the fp32 forward passes.
//
// F32 tensors point straight into the memory mapping; other dtypes (F16,
// BF16, GGUF block types) are decoded once into buffers this object owns.
// Built on demand by the forward passes, so `lmpack info` never reads weights.
#pragma once

#include <memory>
#include <vector>

#include "model/checkpoint.h"

namespace lmpack {

struct LayerWeights {
  const float* attn_norm;  // [dim]
  const float* wq;         // [q_dim, dim]
  const float* wk;         // [kv_dim, dim]
  const float* wv;         // [kv_dim, dim]
  const float* bq;         // [q_dim] or nullptr
  const float* bk;         // [kv_dim] or nullptr
  const float* bv;         // [kv_dim] or nullptr
  const float* wo;         // [dim, q_dim]
  const float* ffn_norm;   // [dim]
  const float* w_gate;     // [hidden_dim, dim]
  const float* w_up;       // [hidden_dim, dim]
  const float* w_down;     // [dim, hidden_dim]
};

struct ModelWeights {
  ModelConfig config;
  const float* token_embd = nullptr;   // [vocab, dim]
  const float* output_norm = nullptr;  // [dim]
  const float* output = nullptr;       // [vocab, dim] (== token_embd when tied)
  std::vector<LayerWeights> layers;
  // [head_dim/2] RoPE inverse frequencies of the pairs (2j, 2j+1): theta,
  // llama3 scaling and rope_freqs.weight divisors (GGUF) already applied.
  std::vector<float> rope_inv_freq;
  std::vector<std::vector<float>> owned;          // decoded tensors
  std::vector<std::shared_ptr<const void>> keep_alive;  // the checkpoint's mappings
};

// Throws Error(checkpoint.path, ...) for a tensor dtype that cannot be decoded.
std::shared_ptr<const ModelWeights> build_weights(const Checkpoint& checkpoint);

}  // namespace lmpack
