#include "model/config.h"

#include <cmath>
#include <utility>

#include "core/error.h"

namespace lmpack {

void ModelConfig::validate(const std::string& where) const {
  auto in_range = [&](int64_t v, int64_t max, const char* name) {
    if (v <= 0) throw Error(where, cat(name, " must be positive, got ", v));
    if (v > max)
      throw Error(where, cat(name, " ", v, " exceeds lmpack's limit of ", max, " (corrupt header?)"));
  };
  in_range(dim, kMaxModelWidth, "hidden size");
  in_range(hidden_dim, kMaxModelWidth, "FFN size");
  in_range(n_layers, kMaxLayers, "layer count");
  in_range(n_heads, kMaxModelWidth, "head count");
  in_range(n_kv_heads, kMaxModelWidth, "KV head count");
  in_range(head_dim, kMaxModelWidth, "head dimension");
  in_range(vocab_size, kMaxVocabSize, "vocabulary size");
  in_range(context_length, kMaxContextLength, "context length");
  if (q_dim() > kMaxModelWidth)
    throw Error(where, cat("head count ", n_heads, " x head dimension ", head_dim, " = ", q_dim(),
                           " exceeds lmpack's limit of ", kMaxModelWidth, " (corrupt header?)"));
  if (n_heads % n_kv_heads != 0)
    throw Error(where, cat("head count ", n_heads, " is not a multiple of KV head count ", n_kv_heads));
  if (sliding_window < 0 || sliding_window > kMaxContextLength)
    throw Error(where, cat("sliding window ", sliding_window, " must be in [0, ", kMaxContextLength, "] (0: none)"));
  if (sliding_window_pattern < 1 || sliding_window_pattern > kMaxLayers)
    throw Error(where, cat("sliding-window pattern ", sliding_window_pattern, " must be in [1, ", kMaxLayers, "]"));
  for (auto [value, name] : {std::pair{embedding_scale, "embedding scale"}, {attention_scale, "attention scale"},
                             {rope_theta_local, "local rope_theta"},
                             {attn_softcap, "attention soft-cap"}, {final_softcap, "final logit soft-cap"}})
    if (!(value >= 0.0f) || !std::isfinite(value)) throw Error(where, cat(name, " must be >= 0 and finite, got ", value));
  if (head_dim % 2 != 0) throw Error(where, cat("head dimension ", head_dim, " is odd; RoPE needs pairs"));
  if (rotary_dims < 0 || rotary_dims > head_dim || rotary_dims % 2 != 0)
    throw Error(where, cat("rotary dimensions ", rotary_dims, " must be even and in [0, head dimension ", head_dim,
                           "] (0: the whole head)"));
  if (nope_interval < 0 || nope_interval > kMaxLayers)
    throw Error(where, cat("no-RoPE layer interval ", nope_interval, " must be in [0, ", kMaxLayers, "] (0: none)"));
  if (n_experts < 0 || n_experts > kMaxExperts)
    throw Error(where, cat("expert count ", n_experts, " must be in [0, ", kMaxExperts, "] (0: dense)"));
  if (n_experts > 0) {
    if (n_experts_used < 1 || n_experts_used > n_experts)
      throw Error(where, cat("experts used per token ", n_experts_used, " must be in [1, ", n_experts, "]"));
    in_range(expert_hidden_dim, kMaxModelWidth, "expert FFN size");
  }
  if (rope_scaling.type == RopeScaling::Type::kLongRope) {
    const auto half = static_cast<size_t>(rope_dims() / 2);
    if (rope_scaling.short_factors.size() != half || rope_scaling.long_factors.size() != half)
      throw Error(where, cat("longrope short and long factors must hold ", half, " values each (rotary dimensions / 2), "
                             "got ", rope_scaling.short_factors.size(), " and ", rope_scaling.long_factors.size()));
    for (const std::vector<float>* f : {&rope_scaling.short_factors, &rope_scaling.long_factors})
      for (float v : *f)
        if (!(v > 0.0f) || !std::isfinite(v)) throw Error(where, cat("longrope factor ", v, " must be positive"));
    if (!(rope_scaling.attention_factor > 0.0f) || !std::isfinite(rope_scaling.attention_factor))
      throw Error(where, cat("longrope attention factor ", rope_scaling.attention_factor, " must be positive"));
    if (rope_scaling.original_max_position <= 0 || rope_scaling.original_max_position > kMaxContextLength)
      throw Error(where, cat("longrope original_max_position_embeddings ", rope_scaling.original_max_position,
                             " must be in [1, ", kMaxContextLength, "]"));
  }
  if (!(rms_eps > 0.0f) || !std::isfinite(rms_eps)) throw Error(where, cat("rms_norm_eps must be positive, got ", rms_eps));
  if (!(rope_theta > 0.0f) || !std::isfinite(rope_theta)) throw Error(where, cat("rope_theta must be positive, got ", rope_theta));
}

void set_gemma_block(ModelConfig& c) {
  c.ffn_activation = FfnActivation::kGeluTanh;
  c.post_norms = true;
  c.embedding_scale = std::sqrt(static_cast<float>(c.dim));
}

float ModelConfig::attention_score_scale() const {
  return attention_scale > 0.0f ? attention_scale : 1.0f / std::sqrt(static_cast<float>(head_dim));
}

std::string ModelConfig::untrainable_reason() const {
  if (attn_qk_norm) return "per-head q/k norms (Qwen3)";
  if (post_norms || ffn_activation != FfnActivation::kSilu || embedding_scale > 0.0f || attn_softcap > 0.0f ||
      final_softcap > 0.0f || attention_scale > 0.0f)
    return "Gemma's post-norms, GELU, embedding scale, attention scale and soft-caps";
  if (rotary_dims > 0 && rotary_dims != head_dim) return "partial rotary embeddings (Phi-4-mini)";
  if (nope_interval > 0) return "layers without RoPE (SmolLM3)";
  if (rope_scaling.type == RopeScaling::Type::kLongRope) return "LongRoPE scaling (Phi-3)";
  if (n_experts > 0) return "a mixture of experts (its router has no backward pass yet)";
  return "";
}

}  // namespace lmpack
