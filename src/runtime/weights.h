// A checkpoint's weights as the forward passes see them.
//
// ModelWeights (the fast path) keeps every matrix as a WeightMatrix view of
// the stored bytes in the memory mapping: F32, F16, BF16 and every GGUF block
// type whose FormatOps has a dot product run in place through qmatmul_xwt,
// so the weights in memory are the size of the file. Token embeddings are
// decoded one looked-up row at a time. Only tensors the fast path cannot use
// in place (unaligned F32, block types without a dot product, F16/BF16 norm
// vectors and biases) are decoded once into buffers this object owns.
//
// ReferenceWeights (the oracle) are fp32 views of everything, decoded on the
// first call to reference() (made by make_reference_forward), never by the
// fast path.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "formats/qmatmul.h"
#include "model/checkpoint.h"

namespace lmpack {

// One expert of a mixture-of-experts block (config.is_moe()).
struct ExpertWeights {
  WeightMatrix w_gate;  // [expert_hidden_dim, dim]
  WeightMatrix w_up;    // [expert_hidden_dim, dim]
  WeightMatrix w_down;  // [dim, expert_hidden_dim]
};

struct LayerWeights {
  const float* attn_norm;  // [dim]
  WeightMatrix wq;         // [q_dim, dim]
  WeightMatrix wk;         // [kv_dim, dim]
  WeightMatrix wv;         // [kv_dim, dim]
  const float* bq;         // [q_dim] or nullptr
  const float* bk;         // [kv_dim] or nullptr
  const float* bv;         // [kv_dim] or nullptr
  const float* q_norm;     // [head_dim] or nullptr (attn_qk_norm)
  const float* k_norm;     // [head_dim] or nullptr
  WeightMatrix wo;         // [dim, q_dim]
  const float* post_attn_norm;  // [dim] or nullptr (post_norms: Gemma 2)
  const float* ffn_norm;   // [dim]
  WeightMatrix w_gate;     // [hidden_dim, dim] (empty for a mixture of experts)
  WeightMatrix w_up;       // [hidden_dim, dim]
  WeightMatrix w_down;     // [dim, hidden_dim]
  const float* post_ffn_norm;  // [dim] or nullptr
  const float* router;     // [n_experts, dim] or nullptr (dense)
  std::vector<ExpertWeights> experts;
};

// fp32 views for the reference forward pass (same shapes as LayerWeights).
struct ReferenceLayerWeights {
  const float* attn_norm;
  const float* wq;
  const float* wk;
  const float* wv;
  const float* bq;
  const float* bk;
  const float* bv;
  const float* q_norm;
  const float* k_norm;
  const float* wo;
  const float* post_attn_norm;
  const float* ffn_norm;
  const float* w_gate;
  const float* w_up;
  const float* w_down;
  const float* post_ffn_norm;
  const float* router;
  struct Expert {
    const float* w_gate;
    const float* w_up;
    const float* w_down;
  };
  std::vector<Expert> experts;
};

struct ReferenceWeights {
  const float* token_embd = nullptr;   // [vocab, dim]
  const float* output_norm = nullptr;  // [dim]
  const float* output = nullptr;       // [vocab, dim] (== token_embd when tied)
  std::vector<ReferenceLayerWeights> layers;
  std::vector<std::vector<float>> owned;  // decoded tensors
};

struct ModelWeights {
  ModelConfig config;
  WeightMatrix token_embd;             // [vocab, dim], any decodable type
  const float* output_norm = nullptr;  // [dim]
  WeightMatrix output;                 // [vocab, dim] (== token_embd when tied)
  std::vector<LayerWeights> layers;
  // [rope_dims/2] RoPE inverse frequencies of the pairs (2j, 2j+1): theta,
  // llama3 scaling and rope_freqs.weight divisors (GGUF) already applied.
  std::vector<float> rope_inv_freq;
  // [head_dim/2] of the windowed layers when they rotate apart (Gemma 3's
  // rope_theta_local, unscaled); empty otherwise.
  std::vector<float> rope_inv_freq_local;
  // LongRoPE (Phi-3): the frequencies of contexts longer than
  // rope_long_above tokens (empty otherwise), and the factor of cos and sin.
  std::vector<float> rope_inv_freq_long;
  int64_t rope_long_above = 0;
  float rope_magnitude = 1.0f;
  std::vector<std::vector<float>> owned;                // decoded tensors (see above)
  std::vector<std::shared_ptr<const void>> keep_alive;  // the checkpoint's mappings
  // Where the weights came from, for errors: the checkpoint's path and its
  // tensors as stored (views into keep_alive; see runtime/non_finite.h).
  std::string source;
  std::map<std::string, TensorInfo> stored;

  // x [dim] = row `token` of token_embd, decoded.
  void embed(float* x, int32_t token) const;
  // Bytes of weights this object holds outside the mappings (owned, plus the
  // reference weights' buffers once built): ~0 for a checkpoint the fast path
  // runs in place.
  size_t owned_bytes() const;
  // fp32 views, decoded on first call (thread-safe); for the reference pass.
  const ReferenceWeights& reference() const;

 private:
  mutable std::once_flag reference_once_;
  mutable std::unique_ptr<ReferenceWeights> reference_;
};

// Throws Error(checkpoint.path, ...) for a tensor dtype that cannot be decoded.
std::shared_ptr<const ModelWeights> build_weights(const Checkpoint& checkpoint);

}  // namespace lmpack
