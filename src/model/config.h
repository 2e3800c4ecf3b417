// The one internal description of a Llama-family model's hyperparameters,
// filled by every loader (HF config.json, GGUF llama.* metadata, llama2.c
// header) and read by the forward pass and every writer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmpack {

struct RopeScaling {
  // kLinear: every frequency divided by factor (position interpolation).
  // kLongRope (Phi-3's "longrope"/"su"): frequency j divided by
  // short_factors[j], or by long_factors[j] when the context run is longer
  // than original_max_position; cos and sin scaled by attention_factor.
  enum class Type { kNone, kLlama3, kLinear, kLongRope } type = Type::kNone;
  float factor = 1.0f;
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  int64_t original_max_position = 8192;
  std::vector<float> short_factors, long_factors;  // [rope_dims / 2] each (kLongRope)
  float attention_factor = 1.0f;
};

// Upper bounds on hyperparameters read from a file. A header beyond them is
// corrupt or hostile, never a model: they keep every size computed from a
// config (RoPE tables, KV cache, activations) far from int64 overflow and
// turn an absurd header into one clear error instead of a huge allocation.
// kMaxContextLength is 2^24 tokens (16.7M; the longest trained contexts today
// are about 10M).
inline constexpr int64_t kMaxContextLength = int64_t{1} << 24;
inline constexpr int64_t kMaxModelWidth = int64_t{1} << 20;  // hidden size, FFN size, head dim, heads
inline constexpr int64_t kMaxLayers = 4096;
inline constexpr int64_t kMaxVocabSize = int64_t{1} << 24;
inline constexpr int64_t kMaxExperts = 4096;  // Qwen3-235B has 128, DeepSeek-V3 256

enum class FfnActivation { kSilu, kGeluTanh };  // SwiGLU (Llama, Qwen); GeGLU with tanh GELU (Gemma)

struct ModelConfig {
  // "llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "phi3", "smollm3", "mixtral", "qwen3moe"
  std::string architecture = "llama";
  int64_t dim = 0;                     // hidden size
  int64_t hidden_dim = 0;              // FFN intermediate size
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;                // usually dim / n_heads; HF may set it apart
  int64_t vocab_size = 0;
  int64_t context_length = 0;          // the model's trained context
  float rms_eps = 1e-5f;
  float rope_theta = 10000.0f;
  RopeScaling rope_scaling;
  bool tied_embeddings = false;        // output projection = token embedding
  bool attn_qkv_bias = false;          // Qwen2: q/k/v projections carry biases
  bool attn_qk_norm = false;           // Qwen3: RMSNorm over each head of q and k ([head_dim] weights), before RoPE
  // Sliding-window attention (Mistral): a query at position p of a windowed
  // layer sees the keys at positions p - sliding_window + 1 .. p only. 0: none.
  int64_t sliding_window = 0;
  // Which layers are windowed: with pattern n > 1, layer l is windowed unless
  // (l + 1) % n == 0 (every n-th layer global, llama.cpp's swa pattern); with
  // 1, every layer.
  int64_t sliding_window_pattern = 1;
  // Gemma 2: act(gate)·up with tanh GELU; token embeddings scaled by
  // embedding_scale (sqrt(dim)); RMSNorms of the attention and FFN outputs
  // before each residual add (post_norms); attention scale apart from
  // 1/sqrt(head_dim) (query_pre_attn_scalar^-1/2); attention scores and
  // logits soft-capped, s -> cap·tanh(s/cap). 0 where a field says "none".
  FfnActivation ffn_activation = FfnActivation::kSilu;
  float embedding_scale = 0.0f;
  bool post_norms = false;
  float attention_scale = 0.0f;
  float attn_softcap = 0.0f;
  float final_softcap = 0.0f;
  // Gemma 3: the windowed layers rotate with their own base, unscaled
  // (rope_local_base_freq); rope_theta and rope_scaling are the global
  // layers'. 0: every layer alike.
  float rope_theta_local = 0.0f;
  // Partial rotary (Phi-4-mini): RoPE turns the first rotary_dims of each
  // head and passes the rest through. 0: the whole head.
  int64_t rotary_dims = 0;
  // SmolLM3: layer l has no RoPE at all when (l + 1) % nope_interval == 0.
  // 0: every layer rotates.
  int64_t nope_interval = 0;
  // Mixture of experts (Mixtral, Qwen3-MoE): every block's FFN is n_experts
  // SwiGLU experts of expert_hidden_dim; a router ([n_experts, dim]) scores
  // each token, softmax over all experts, the n_experts_used best run and
  // their outputs add up weighted by those probabilities, renormalized to
  // sum 1 when norm_topk_prob. 0 experts: a dense FFN of hidden_dim.
  int64_t n_experts = 0;
  int64_t n_experts_used = 0;
  int64_t expert_hidden_dim = 0;
  bool norm_topk_prob = true;

  int64_t q_dim() const { return n_heads * head_dim; }
  // The factor of q·k in attention scores.
  float attention_score_scale() const;
  // "" when the training pass (train/) can run this model, else what it lacks.
  std::string untrainable_reason() const;
  // The window of layer l's attention (0: it sees every earlier position).
  int64_t attention_window(int64_t layer) const {
    if (sliding_window <= 0) return 0;
    return sliding_window_pattern <= 1 || (layer + 1) % sliding_window_pattern != 0 ? sliding_window : 0;
  }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  // The dimensions of each head RoPE turns.
  int64_t rope_dims() const { return rotary_dims > 0 ? rotary_dims : head_dim; }
  bool is_moe() const { return n_experts > 0; }
  // The width of the FFN's hidden activations: an expert's, or the dense FFN's.
  int64_t ffn_width() const { return is_moe() ? expert_hidden_dim : hidden_dim; }
  bool layer_has_rope(int64_t layer) const { return nope_interval <= 0 || (layer + 1) % nope_interval != 0; }
  // Throws Error(where, ...) naming the first inconsistent or out-of-range
  // field (the limits above).
  void validate(const std::string& where) const;
};

// The block Gemma 2 and Gemma 3 share: tanh-GELU GeGLU, post-norms, token
// embeddings scaled by sqrt(dim) (config.dim set first).
void set_gemma_block(ModelConfig& config);

}  // namespace lmpack
