// Hugging Face config.json <-> ModelConfig, for LlamaForCausalLM,
// MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma2ForCausalLM,
// Gemma3ForCausalLM, Phi3ForCausalLM and SmolLM3ForCausalLM.
//
// Phi-3 (Phi-3/3.5-mini, Phi-4-mini): partial_rotary_factor (rotary_dims),
// rope_scaling "longrope" (or "su") with short_factor/long_factor and
// original_max_position_embeddings (top level), the attention factor derived
// as transformers does when rope_scaling gives none; sliding_window applied.
// SmolLM3: no_rope_layer_interval (default 4), and no_rope_layers, when
// given, must follow it. MixtralForCausalLM: num_local_experts experts of
// intermediate_size, num_experts_per_tok per token, always renormalized;
// Qwen3MoeForCausalLM: num_experts of moe_intermediate_size, norm_topk_prob
// (default false, as Qwen3MoeConfig), every layer sparse (decoder_sparse_step
// 1, no mlp_only_layers, no shared expert).
//
// Defaults follow the transformers config classes where a key is optional
// (num_key_value_heads = num_attention_heads, head_dim = hidden/heads,
// rope_theta 10000, rms_norm_eps 1e-6, tie_word_embeddings false); the shape
// keys and max_position_embeddings are required. rope_scaling may be null, of
// type "default" (no scaling) or "llama3"; other types are refused. Qwen2
// always has q/k/v biases. Qwen3 always has per-head q/k norms and needs
// head_dim (its config class defaults it to 128, not hidden/heads, so an
// absent one is refused rather than guessed); use_sliding_window true is
// refused. Mistral's sliding_window (an integer, or null for none) is read
// and applied to every layer. Gemma 2: hidden_activation gelu_pytorch_tanh,
// head_dim required, query_pre_attn_scalar (default head_dim),
// attn_logit_softcapping and final_logit_softcapping (null: none),
// sliding_window on even layers (layer_types, when given, must say so),
// tie_word_embeddings true by default; its RMSNorm weights are stored as w
// for a scale of 1 + w (the loader and writers add and take the one:
// hf_norm_offset). Every error names the file and the key.
#pragma once

#include <string>

#include "core/dtype.h"
#include "model/config.h"

namespace lmpack {

// `where` names the source in error messages (the file's path).
ModelConfig parse_hf_config(const std::string& json_text, const std::string& where);
// Reads and parses a config.json file.
ModelConfig read_hf_config(const std::string& path);

// The steps that made a model, as lmpack wrote them into its config.json
// ("lmpack_recipe" at the top, or in "quantization_config" for GPTQ/AWQ
// folders), as compact JSON; "" when there is none or it is not an array.
std::string hf_config_recipe(const std::string& json_text);

// 1 for architectures whose Hugging Face RMSNorm weights are stored as w for
// a scale of 1 + w (Gemma), else 0. lmpack's canonical tensors hold the scale
// itself (as GGUF does).
float hf_norm_offset(const std::string& architecture);
// 2 or 3 for Gemma 2 / Gemma 3 (their HF norm names and offset), else 0.
int hf_gemma_version(const std::string& architecture);
// True when HF stores q/k/v as one qkv_proj and gate/up as one gate_up_proj
// (Phi-3): rows stacked q, k, v and gate, up. Canonical tensors keep them apart.
bool hf_fused_projections(const std::string& architecture);

// LongRoPE's attention factor as transformers derives it when rope_scaling
// gives none: sqrt(1 + ln(max / original) / ln(original)), 1 when the model
// does not reach past its original context.
float longrope_attention_factor(int64_t max_positions, int64_t original_max_positions);

// HF architectures[0] for an internal architecture name ("llama" ->
// "LlamaForCausalLM"); throws Error for an unknown one.
std::string hf_architecture_class(const std::string& architecture);

struct HfConfigExtras {
  DType torch_dtype = DType::F32;  // written as "float32" / "float16" / "bfloat16"
  int64_t bos_token_id = -1;       // written when >= 0
  int64_t eos_token_id = -1;
  std::string recipe;  // "lmpack_recipe": the JSON array of the steps that made the model ("" : none)
};

// The config.json text for `config` (2-space indented, trailing newline).
// Throws Error("config", ...) for what HF configs cannot express (a Llama or
// Mistral with q/k/v biases, a Qwen2 without them).
std::string hf_config_to_json(const ModelConfig& config, const HfConfigExtras& extras = {});

}  // namespace lmpack
