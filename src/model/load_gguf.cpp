// GGUF -> Checkpoint: <arch>.* hyperparameters into ModelConfig, tensors
// under their own (canonical) names, tokenizer.ggml.* into a Vocab.
#include "model/load_gguf.h"

#include <cmath>

#include "core/error.h"
#include "core/printable.h"
#include "formats/decode.h"
#include "model/fused_projections.h"
#include "model/loaders.h"
#include "model/rope_layout.h"
#include "model/save_gguf.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace {

int64_t int_or(const GgufFile& g, const std::string& key, int64_t fallback) {
  return g.find(key) != nullptr ? g.get_int(key) : fallback;
}

// A hyperparameter that must be a positive integer (head counts, sizes ...).
int64_t positive(const GgufFile& g, const std::string& key, int64_t value) {
  if (value <= 0) throw Error(g.path, cat("metadata key ", key, " is ", value, ", must be positive"));
  return value;
}

// LongRoPE's factors as rope_factors_short/long tensors (phi3, or a llama
// lmpack wrote for a Phi-3 cut to fewer heads), into the config.
void read_longrope_factors(const GgufFile& g, Checkpoint& c, const std::string& p) {
  ModelConfig& cfg = c.config;
  const TensorInfo* short_f = c.find("rope_factors_short.weight");
  const TensorInfo* long_f = c.find("rope_factors_long.weight");
  if ((short_f == nullptr) != (long_f == nullptr))
    throw Error(g.path, "has one of rope_factors_short.weight and rope_factors_long.weight without the other");
  if (short_f != nullptr) {
    RopeScaling& s = cfg.rope_scaling;
    s.type = RopeScaling::Type::kLongRope;
    const int64_t half = cfg.rope_dims() / 2;
    for (auto [t, out] : {std::pair{short_f, &s.short_factors}, {long_f, &s.long_factors}}) {
      if (t->shape.size() != 1 || t->shape[0] != half || t->dtype != DType::F32)
        throw Error(g.path, cat("tensor ", t->name, " is ", dtype_name(t->dtype), " ", shape_string(t->shape),
                                "; expected F32 [", half, "] (rope.dimension_count / 2)"));
      out->resize(static_cast<size_t>(half));
      decode_to_f32(out->data(), t->data, t->dtype, half);
    }
    s.original_max_position = int_or(g, p + "rope.scaling.original_context_length", cfg.context_length);
    s.attention_factor = g.find(p + "rope.scaling.attn_factor") != nullptr
                             ? static_cast<float>(g.get_float(p + "rope.scaling.attn_factor"))
                             : 1.0f;
    c.tensors.erase("rope_factors_short.weight");
    c.tensors.erase("rope_factors_long.weight");
  }
}

// Phi-3's GGUF: gate and up stacked in one ffn_up of twice the FFN width, and
// q, k, v either apart or stacked in attn_qkv (split_fused_projections).
void read_phi3_tensors(Checkpoint& c) {
  const ModelConfig& cfg = c.config;
  for (int64_t l = 0; l < cfg.n_layers; ++l) {
    auto up = c.tensors.find(cat("blk.", l, ".ffn_up.weight"));
    if (up == c.tensors.end()) continue;  // validation names it
    TensorInfo t = up->second;
    c.tensors.erase(up);
    t.name = cat("blk.", l, ".ffn_gate_up.weight");
    c.tensors.emplace(t.name, std::move(t));
  }
  split_fused_projections(c);
}

}  // namespace

Checkpoint checkpoint_from_gguf(GgufFile g) {
  Checkpoint c;
  c.path = g.path;
  c.format = "gguf";
  // The steps that made the file (pipeline/compress.h), kept for the next ones.
  if (const GgufValue* v = g.find("lmpack.recipe"); v != nullptr && v->type == GgufType::kString) c.recipe = v->str;

  const std::string arch = g.get_string("general.architecture");
  if (arch != "llama" && arch != "qwen2" && arch != "qwen3" && arch != "gemma2" && arch != "gemma3" &&
      arch != "phi3" && arch != "smollm3" && arch != "qwen3moe")
    throw Error(g.path, cat("unsupported architecture '", printable(arch),
                            "' (supported: llama, qwen2, qwen3, gemma2, gemma3, phi3, smollm3, qwen3moe)"));
  const std::string p = arch + ".";

  ModelConfig& cfg = c.config;
  cfg.architecture = arch;
  cfg.context_length = positive(g, p + "context_length", g.get_int(p + "context_length"));
  cfg.dim = positive(g, p + "embedding_length", g.get_int(p + "embedding_length"));
  cfg.hidden_dim = positive(g, p + "feed_forward_length", g.get_int(p + "feed_forward_length"));
  cfg.n_layers = positive(g, p + "block_count", g.get_int(p + "block_count"));
  cfg.n_heads = positive(g, p + "attention.head_count", g.get_int(p + "attention.head_count"));
  cfg.n_kv_heads = positive(g, p + "attention.head_count_kv", int_or(g, p + "attention.head_count_kv", cfg.n_heads));

  if (g.find(p + "attention.key_length") != nullptr) {
    cfg.head_dim = positive(g, p + "attention.key_length", g.get_int(p + "attention.key_length"));
    const int64_t value_length = int_or(g, p + "attention.value_length", cfg.head_dim);
    if (value_length != cfg.head_dim)
      throw Error(g.path, cat(p, "attention.value_length ", value_length, " differs from key_length ",
                              cfg.head_dim, " (not supported)"));
  } else {
    if (cfg.dim % cfg.n_heads != 0)
      throw Error(g.path, cat(p, "embedding_length ", cfg.dim, " is not a multiple of ", p,
                              "attention.head_count ", cfg.n_heads, " and no key_length is given"));
    cfg.head_dim = cfg.dim / cfg.n_heads;
  }
  if (g.find(p + "rope.dimension_count") != nullptr) {
    const int64_t rope_dims = g.get_int(p + "rope.dimension_count");
    if (rope_dims != cfg.head_dim && (arch != "phi3" || rope_dims <= 0 || rope_dims > cfg.head_dim || rope_dims % 2))
      throw Error(g.path, cat(p, "rope.dimension_count ", rope_dims, " differs from the head dimension ",
                              cfg.head_dim, arch == "phi3" ? " and is not an even number below it"
                                                           : " (partial RoPE is read for phi3 only)"));
    if (rope_dims != cfg.head_dim) cfg.rotary_dims = rope_dims;
  }
  if (g.find(p + "rope.scaling.type") != nullptr) {
    const std::string type = g.get_string(p + "rope.scaling.type");
    if (type == "linear") {
      cfg.rope_scaling.type = RopeScaling::Type::kLinear;
      cfg.rope_scaling.factor = static_cast<float>(g.get_float(p + "rope.scaling.factor"));
      if (!(cfg.rope_scaling.factor > 0.0f) || !std::isfinite(cfg.rope_scaling.factor))
        throw Error(g.path, cat(p, "rope.scaling.factor is ", cfg.rope_scaling.factor, ", must be positive"));
    } else if (type != "none" && type != "longrope") {  // longrope: the factors are tensors (read_longrope_factors)
      throw Error(g.path, cat("unsupported ", p, "rope.scaling.type '", printable(type), "' (supported: none, linear, longrope; llama3 "
                              "scaling comes as the rope_freqs.weight tensor)"));
    }
  }

  cfg.rms_eps = static_cast<float>(g.get_float(p + "attention.layer_norm_rms_epsilon"));
  if (!(cfg.rms_eps > 0.0f) || !std::isfinite(cfg.rms_eps))
    throw Error(g.path, cat(p, "attention.layer_norm_rms_epsilon is ", cfg.rms_eps, ", must be positive"));
  cfg.rope_theta = g.find(p + "rope.freq_base") != nullptr
                       ? static_cast<float>(g.get_float(p + "rope.freq_base"))
                       : 10000.0f;
  if (!(cfg.rope_theta > 0.0f) || !std::isfinite(cfg.rope_theta))
    throw Error(g.path, cat(p, "rope.freq_base is ", cfg.rope_theta, ", must be positive"));
  cfg.attn_qkv_bias = arch == "qwen2";
  cfg.attn_qk_norm = arch == "qwen3" || arch == "gemma3" || arch == "qwen3moe";
  // A mixture of experts (llama.cpp renormalizes the chosen experts' weights).
  if (int_or(g, p + "expert_count", 0) != 0 || arch == "qwen3moe") {
    cfg.n_experts = positive(g, p + "expert_count", g.get_int(p + "expert_count"));
    cfg.n_experts_used = positive(g, p + "expert_used_count", g.get_int(p + "expert_used_count"));
    cfg.expert_hidden_dim = arch == "qwen3moe" ? positive(g, p + "expert_feed_forward_length",
                                                          g.get_int(p + "expert_feed_forward_length"))
                                               : cfg.hidden_dim;
    cfg.norm_topk_prob = true;
    if (arch == "llama") cfg.architecture = "mixtral";
  }
  if (arch == "gemma2" || arch == "gemma3") {  // as llama.cpp reads them, defaults included
    set_gemma_block(cfg);
    cfg.attention_scale = gemma_attention_scale(arch, cfg.n_layers, cfg.dim, cfg.n_heads, cfg.head_dim);
    auto float_or = [&](const std::string& key, float fallback) {
      return g.find(key) != nullptr ? static_cast<float>(g.get_float(key)) : fallback;
    };
    const bool gemma2 = arch == "gemma2";
    cfg.attn_softcap = gemma2 ? float_or(p + "attn_logit_softcapping", 50.0f) : 0.0f;
    cfg.final_softcap = float_or(p + "final_logit_softcapping", gemma2 ? 30.0f : 0.0f);
    // gemma3 without the key has no window (llama.cpp: swa_type none).
    cfg.sliding_window = int_or(g, p + "attention.sliding_window", gemma2 ? 4096 : 0);
    if (cfg.sliding_window < 0) throw Error(g.path, cat(p, "attention.sliding_window is ", cfg.sliding_window));
    cfg.sliding_window_pattern = positive(g, p + "attention.sliding_window_pattern",
                                          int_or(g, p + "attention.sliding_window_pattern", gemma2 ? 2 : 6));
    if (!gemma2 && cfg.sliding_window > 0)  // the windowed layers' base: llama.cpp's default 10000
      cfg.rope_theta_local = float_or(p + "rope.freq_base_swa", 10000.0f);
  }
  if (arch == "smollm3") cfg.nope_interval = 4;  // llama.cpp's smollm3: fixed, no key
  // Phi-3's window (llama.cpp turns it off; transformers applies it, as lmpack does).
  if (arch == "phi3" && g.find(p + "attention.sliding_window") != nullptr) {
    cfg.sliding_window = g.get_int(p + "attention.sliding_window");
    if (cfg.sliding_window < 0) throw Error(g.path, cat(p, "attention.sliding_window is ", cfg.sliding_window));
  }
  // Written by lmpack for a Mistral (llama.cpp's llama ignores it).
  if (arch == "llama" && g.find(p + "attention.sliding_window") != nullptr) {
    cfg.sliding_window = positive(g, p + "attention.sliding_window", g.get_int(p + "attention.sliding_window"));
    if (!cfg.is_moe()) cfg.architecture = "mistral";
  }

  for (TensorInfo& t : g.tensors) {
    std::string name = t.name;
    c.tensors.emplace(std::move(name), std::move(t));
  }
  // llama.cpp's llama takes optional q/k/v biases: lmpack writes a Qwen2 cut
  // to fewer heads that way (save_gguf.h), and reads it back as a Qwen2.
  if (arch == "llama" && c.find("blk.0.attn_q.bias") != nullptr) {
    cfg.attn_qkv_bias = true;
    cfg.architecture = "qwen2";
  }
  cfg.tied_embeddings = c.find("output.weight") == nullptr;
  if (g.find(p + "vocab_size") != nullptr) {
    cfg.vocab_size = positive(g, p + "vocab_size", g.get_int(p + "vocab_size"));
  } else if (const TensorInfo* embd = c.find("token_embd.weight"); embd != nullptr && !embd->shape.empty()) {
    cfg.vocab_size = embd->shape.front();
  } else {
    throw Error(g.path, cat("cannot tell the vocabulary size: no ", p, "vocab_size and no token_embd.weight"));
  }

  // Splitting stacked tensors sizes the parts from the config: bound it first
  // (a corrupt header's counts would otherwise overflow or loop for long).
  if (arch == "phi3" || cfg.is_moe()) cfg.validate(g.path);
  if (arch == "phi3" || arch == "llama") read_longrope_factors(g, c, p);
  if (arch == "phi3") read_phi3_tensors(c);
  if (cfg.is_moe()) split_stacked_experts(c);
  // A llama with LongRoPE is a Phi-3 lmpack cut to fewer heads (save_gguf.h).
  if (arch == "llama" && cfg.rope_scaling.type == RopeScaling::Type::kLongRope) cfg.architecture = "phi3";
  if (g.find("tokenizer.ggml.tokens") != nullptr) c.vocab = vocab_from_gguf(g);
  if (g.file) c.keep_alive.push_back(g.file);
  // llama.cpp runs qwen2 and qwen3 with rotate-half ("NEOX") RoPE on rows its
  // converter copies unchanged from Hugging Face; llama keeps adjacent pairs.
  if (gguf_rope_halves(arch)) rope_rows_halves_to_adjacent(c);
  return c;
}

Checkpoint load_gguf_checkpoint(const std::string& path) { return checkpoint_from_gguf(read_gguf(path)); }

}  // namespace lmpack
