// GGUF model metadata, tensor plan and the float converter (model/save_gguf.h).
// Keys and defaults follow llama.cpp's convert_hf_to_gguf.py (LlamaModel,
// Qwen2Model) and what llama-model.cpp / llama-vocab.cpp read.
#include "model/save_gguf.h"
#include "model/tensor_names.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "formats/decode.h"
#include "formats/format_sizes.h"
#include "model/loaders.h"
#include "model/rope_layout.h"
#include "model/save_hf.h"

namespace lmpack {
namespace {

constexpr int64_t kChunkElements = int64_t{1} << 20;  // values converted at a time by save_gguf

void add_u32_checked(GgufWriter& w, const std::string& where, const std::string& key, int64_t v) {
  if (v < 0 || v > int64_t{0xFFFFFFFF}) throw Error(where, cat(key, " is ", v, ", does not fit in uint32"));
  w.add_u32(key, static_cast<uint32_t>(v));
}

void add_vocab(GgufWriter& w, const Checkpoint& ckpt) {
  if (!ckpt.vocab) throw Error(ckpt.path, "has no tokenizer; llama.cpp needs one in the GGUF: give one from elsewhere (`tokenizer`)");
  const Vocab& v = *ckpt.vocab;
  const int64_t n_model = ckpt.config.vocab_size;
  const size_t n = v.tokens.size();
  if (n == 0) throw Error(ckpt.path, "the vocabulary has no tokens");
  if (static_cast<int64_t>(n) > n_model)
    throw Error(ckpt.path, cat("the vocabulary has ", n, " tokens but the model's embedding has ", n_model, " rows"));
  if (!v.scores.empty() && v.scores.size() != n)
    throw Error(ckpt.path, cat("the vocabulary has ", n, " tokens but ", v.scores.size(), " scores"));
  if (!v.token_types.empty() && v.token_types.size() != n)
    throw Error(ckpt.path, cat("the vocabulary has ", n, " tokens but ", v.token_types.size(), " token types"));
  if (v.model == "gpt2" && v.merges.empty())
    throw Error(ckpt.path, "the byte-level BPE (gpt2) vocabulary has no merges; llama.cpp needs them");

  // Embedding rows past the tokenizer (HF models pad to a multiple of 64 or
  // so): llama.cpp needs one token per row; its converter adds [PAD<id>].
  std::vector<std::string> tokens = v.tokens;
  std::vector<float> scores = v.scores;
  std::vector<int32_t> types;
  types.reserve(static_cast<size_t>(n_model));
  for (TokenType t : v.token_types) types.push_back(static_cast<int32_t>(t));
  for (int64_t id = static_cast<int64_t>(n); id < n_model; ++id) {
    tokens.push_back(cat("[PAD", id, "]"));
    if (!scores.empty()) scores.push_back(-1000.0f);
    if (!types.empty()) types.push_back(static_cast<int32_t>(TokenType::kUnused));
  }

  w.add_string("tokenizer.ggml.model", v.model);
  if (!v.pre.empty()) w.add_string("tokenizer.ggml.pre", v.pre);
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  if (!scores.empty()) w.add_f32_array("tokenizer.ggml.scores", scores);
  if (!types.empty()) w.add_i32_array("tokenizer.ggml.token_type", types);
  if (!v.merges.empty()) w.add_string_array("tokenizer.ggml.merges", v.merges);
  auto special = [&](const char* key, int32_t id) {
    if (id < 0) return;
    if (static_cast<size_t>(id) >= n)
      throw Error(ckpt.path, cat("vocabulary ", key, " ", id, " is outside its ", n, " tokens"));
    w.add_u32(cat("tokenizer.ggml.", key), static_cast<uint32_t>(id));
  };
  special("bos_token_id", v.bos_id);
  special("eos_token_id", v.eos_id);
  special("unknown_token_id", v.unk_id);
  special("padding_token_id", v.pad_id);
  w.add_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w.add_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  if (v.model == "llama") w.add_bool("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
}

// A plan entry of one part (stacked and values empty, rows in stored order).
GgufTensorSource tensor_source(std::string name, std::vector<int64_t> shape, const TensorInfo* tensor) {
  GgufTensorSource s;
  s.name = std::move(name);
  s.shape = std::move(shape);
  s.tensor = tensor;
  return s;
}

}  // namespace

// "blk.N.<rest>" -> N and rest; false for other names.
std::string model_name_of(const std::string& path) {
  std::filesystem::path p(path);
  while (p.has_parent_path() && !p.has_filename()) p = p.parent_path();  // "dir/" -> "dir"
  std::string name = p.has_extension() && !std::filesystem::is_directory(p) ? p.stem().string() : p.filename().string();
  return name.empty() ? std::string("model") : name;
}


uint32_t llama_ftype_of(DType type) {
  switch (type) {
    case DType::F32: return llama_ftype::kAllF32;
    case DType::F16: return llama_ftype::kMostlyF16;
    case DType::BF16: return llama_ftype::kBF16;
    case DType::Q4_0: return llama_ftype::kQ4_0;
    case DType::Q4_1: return llama_ftype::kQ4_1;
    case DType::Q5_0: return llama_ftype::kQ5_0;
    case DType::Q5_1: return llama_ftype::kQ5_1;
    case DType::Q8_0: return llama_ftype::kQ8_0;
    case DType::Q6_K: return llama_ftype::kQ6_K;
    case DType::IQ4_NL: return llama_ftype::kIQ4_NL;
    default:
      throw Error(dtype_name(type), "has no llama.cpp file type of its own (k-quants come as named mixes such as "
                                    "Q4_K_M)");
  }
}

std::string gguf_architecture(const ModelConfig& config) {
  // llama.cpp's phi3 takes attention as wide as the model only; a Phi-3 cut
  // to fewer heads goes out as a llama (which reads rope_factors_* too) when
  // RoPE turns whole heads.
  if (config.architecture == "phi3")
    return config.q_dim() != config.dim && config.rope_dims() == config.head_dim ? "llama" : "phi3";
  if (config.nope_interval > 0) return "smollm3";
  if (config.is_moe()) return config.attn_qk_norm ? "qwen3moe" : "llama";  // Qwen3-MoE; Mixtral
  if (config.post_norms) return config.attn_qk_norm ? "gemma3" : "gemma2";
  if (config.attn_qk_norm) return "qwen3";
  // llama.cpp's qwen2 takes q/o matrices of the embedding width only; its
  // llama takes q/k/v biases of any width (create_tensor_qkv), so a Qwen2 cut
  // to fewer heads goes out as a llama with biases.
  if (config.attn_qkv_bias && config.q_dim() == config.dim) return "qwen2";
  return "llama";
}

bool gguf_rope_halves(const std::string& gguf_arch) {
  return gguf_arch == "qwen2" || gguf_arch == "qwen3" || gguf_arch == "gemma2" || gguf_arch == "gemma3" ||
         gguf_arch == "phi3" || gguf_arch == "qwen3moe";
}

float gemma_attention_scale(const std::string& gguf_arch, int64_t n_layers, int64_t dim, int64_t n_heads,
                            int64_t head_dim) {
  const int64_t layers_of_27b = gguf_arch == "gemma2" ? 46 : 62;
  return n_layers == layers_of_27b ? 1.0f / std::sqrt(static_cast<float>(dim / n_heads))
                                   : 1.0f / std::sqrt(static_cast<float>(head_dim));
}

void add_model_metadata(GgufWriter& w, const Checkpoint& ckpt, uint32_t file_type, const std::string& model_name) {
  const ModelConfig& c = ckpt.config;
  c.validate(ckpt.path);
  if (!ckpt.vocab) throw Error(ckpt.path, "has no tokenizer; llama.cpp needs one in the GGUF: give one from elsewhere (`tokenizer`)");
  const std::string arch = gguf_architecture(c);
  const std::string p = arch + ".";
  w.add_string("general.architecture", arch);
  w.add_string("general.name", model_name);
  w.add_u32("general.file_type", file_type);
  w.add_u32("general.quantization_version", kGgufQuantizationVersion);

  add_u32_checked(w, ckpt.path, p + "vocab_size", c.vocab_size);
  add_u32_checked(w, ckpt.path, p + "context_length", c.context_length);
  add_u32_checked(w, ckpt.path, p + "embedding_length", c.dim);
  // llama.cpp's llama sizes its experts by feed_forward_length; qwen3moe by
  // expert_feed_forward_length.
  add_u32_checked(w, ckpt.path, p + "feed_forward_length",
                  c.is_moe() && arch == "llama" ? c.expert_hidden_dim : c.hidden_dim);
  if (c.is_moe()) {
    if (!c.norm_topk_prob)
      throw Error(ckpt.path, cat("weights its ", c.n_experts_used, " chosen experts by their softmax probabilities "
                                 "without renormalizing (norm_topk_prob false); llama.cpp's ", arch, " renormalizes"));
    add_u32_checked(w, ckpt.path, p + "expert_count", c.n_experts);
    add_u32_checked(w, ckpt.path, p + "expert_used_count", c.n_experts_used);
    if (arch == "qwen3moe") add_u32_checked(w, ckpt.path, p + "expert_feed_forward_length", c.expert_hidden_dim);
  }
  add_u32_checked(w, ckpt.path, p + "block_count", c.n_layers);
  add_u32_checked(w, ckpt.path, p + "attention.head_count", c.n_heads);
  add_u32_checked(w, ckpt.path, p + "attention.head_count_kv", c.n_kv_heads);
  w.add_f32(p + "rope.freq_base", c.rope_theta);
  w.add_f32(p + "attention.layer_norm_rms_epsilon", c.rms_eps);
  add_u32_checked(w, ckpt.path, p + "rope.dimension_count", c.rope_dims());
  if (c.rope_dims() != c.head_dim && arch != "phi3")
    throw Error(ckpt.path, cat("turns ", c.rope_dims(), " of ", c.head_dim, " dimensions per head; llama.cpp's ", arch,
                               " turns whole heads"));
  if (c.rope_scaling.type == RopeScaling::Type::kLongRope) {  // the factors go as rope_factors_* tensors
    if (arch != "phi3" && arch != "llama")
      throw Error(ckpt.path, cat("has LongRoPE scaling, which llama.cpp's ", arch, " does not read"));
    // llama.cpp's llama loads the factor tensors only when told the type.
    if (arch == "llama") w.add_string(p + "rope.scaling.type", "longrope");
    w.add_f32(p + "rope.scaling.attn_factor", c.rope_scaling.attention_factor);
    add_u32_checked(w, ckpt.path, p + "rope.scaling.original_context_length", c.rope_scaling.original_max_position);
  }
  if (arch == "phi3" && c.q_dim() != c.dim)
    throw Error(ckpt.path, cat("has ", c.n_heads, " heads of ", c.head_dim, " (", c.q_dim(), " wide) in a ", c.dim,
                               "-wide model; llama.cpp's phi3 takes attention as wide as the model only (and its "
                               "llama, which takes any width, turns whole heads, not ", c.rope_dims(), " of ",
                               c.head_dim, ")"));
  if (arch == "smollm3" && c.nope_interval != 4)
    throw Error(ckpt.path, cat("leaves RoPE out of every ", c.nope_interval,
                               "-th layer; llama.cpp's smollm3 does so every 4th only"));
  // llama.cpp's llama reads no window (it runs Mistral with full attention);
  // the key keeps the model's own for lmpack, which applies it.
  if (c.sliding_window > 0) add_u32_checked(w, ckpt.path, p + "attention.sliding_window", c.sliding_window);
  if (arch == "gemma2" || arch == "gemma3") {
    if ((arch == "gemma2" && c.sliding_window_pattern != 2) || c.ffn_activation != FfnActivation::kGeluTanh ||
        c.embedding_scale <= 0.0f)
      throw Error(ckpt.path, cat("is not laid out as llama.cpp's ", arch, " (tanh GELU, scaled embedding",
                                 arch == "gemma2" ? ", every other layer windowed)" : ")"));
    if (!c.tied_embeddings)
      throw Error(ckpt.path, "has an output matrix apart from the embedding; llama.cpp's gemma2 has none");
    // llama.cpp derives the attention scale from the shape, not from a key.
    const float expected = gemma_attention_scale(arch, c.n_layers, c.dim, c.n_heads, c.head_dim);
    if (std::fabs(c.attention_score_scale() / expected - 1.0f) > 1e-6f)
      throw Error(ckpt.path, cat("attention scale ", c.attention_score_scale(), " (query_pre_attn_scalar ",
                                 1.0 / (static_cast<double>(c.attention_score_scale()) * c.attention_score_scale()),
                                 ") is not the ", expected, " llama.cpp's ", arch, " derives from ", c.n_layers,
                                 " layers; a GGUF cannot carry it"));
    if (arch == "gemma2") {
      w.add_f32(p + "attn_logit_softcapping", c.attn_softcap);
      w.add_f32(p + "final_logit_softcapping", c.final_softcap);
    } else {
      if (c.attn_softcap > 0.0f) throw Error(ckpt.path, "llama.cpp's gemma3 has no attention soft-cap");
      if (c.final_softcap > 0.0f) w.add_f32(p + "final_logit_softcapping", c.final_softcap);
      if (c.sliding_window > 0) {
        add_u32_checked(w, ckpt.path, p + "attention.sliding_window_pattern", c.sliding_window_pattern);
        w.add_f32(p + "rope.freq_base_swa", c.rope_theta_local > 0.0f ? c.rope_theta_local : c.rope_theta);
      }
    }
  }
  // Linear RoPE scaling (position interpolation), as llama.cpp's converter writes it.
  if (c.rope_scaling.type == RopeScaling::Type::kLinear) {
    w.add_string(p + "rope.scaling.type", "linear");
    w.add_f32(p + "rope.scaling.factor", c.rope_scaling.factor);
  }
  // llama.cpp assumes head_dim = embedding_length / head_count unless told.
  if (c.head_dim * c.n_heads != c.dim) {
    add_u32_checked(w, ckpt.path, p + "attention.key_length", c.head_dim);
    add_u32_checked(w, ckpt.path, p + "attention.value_length", c.head_dim);
  }
  // Llama 3 RoPE scaling travels as the rope_freqs.weight tensor (see
  // gguf_tensor_plan), not as rope.scaling.* keys, as llama.cpp's converter does.
  add_vocab(w, ckpt);
}

std::vector<float> llama3_rope_freq_factors(const ModelConfig& config) {
  // In float32 like the converter's torch code: freqs = 1 / base^(2j/d), then
  // per frequency 1 (short wavelengths), factor (long), or the smooth blend.
  const int64_t half = config.rope_dims() / 2;
  std::vector<float> factors(static_cast<size_t>(half), 1.0f);
  const RopeScaling& s = config.rope_scaling;
  if (s.type != RopeScaling::Type::kLlama3) return factors;
  if (!(s.factor > 0.0f) || !(s.low_freq_factor > 0.0f) || !(s.high_freq_factor > s.low_freq_factor) ||
      s.original_max_position <= 0)
    throw Error("rope_scaling", cat("llama3 scaling needs factor > 0 and high_freq_factor > low_freq_factor > 0, got "
                                    "factor ", s.factor, ", low_freq_factor ", s.low_freq_factor,
                                    ", high_freq_factor ", s.high_freq_factor, ", original_max_position ",
                                    s.original_max_position));
  const float old_ctx = static_cast<float>(s.original_max_position);
  const float low_wavelen = old_ctx / s.low_freq_factor;
  const float high_wavelen = old_ctx / s.high_freq_factor;
  const float two_pi = static_cast<float>(2.0 * 3.14159265358979323846);
  for (int64_t j = 0; j < half; ++j) {
    const float exponent = static_cast<float>(2 * j) / static_cast<float>(config.rope_dims());
    const float freq = 1.0f / std::pow(config.rope_theta, exponent);
    const float wavelen = two_pi / freq;
    if (wavelen < high_wavelen) {
      factors[j] = 1.0f;
    } else if (wavelen > low_wavelen) {
      factors[j] = s.factor;
    } else {
      const float smooth = (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      factors[j] = 1.0f / ((1.0f - smooth) / s.factor + smooth);
    }
  }
  return factors;
}

std::vector<GgufTensorSource> gguf_tensor_plan(const Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config;
  const bool halves = gguf_rope_halves(gguf_architecture(c));
  std::vector<GgufTensorSource> plan;
  std::set<std::string> used;
  auto take = [&](const std::string& name, bool required) {
    const TensorInfo* t = ckpt.find(name);
    if (t == nullptr) {
      if (required) throw Error(ckpt.path, cat("missing tensor ", name));
      return;
    }
    GgufTensorSource s = tensor_source(name, t->shape, t);
    if (halves) s.rope_halves = is_query_or_key(name) || is_query_or_key_norm(name);
    plan.push_back(std::move(s));
    used.insert(name);
  };

  auto computed = [&](const char* name, std::vector<float> values) {
    GgufTensorSource s = tensor_source(name, {static_cast<int64_t>(values.size())}, nullptr);
    s.values = std::move(values);
    plan.push_back(std::move(s));
  };
  take("token_embd.weight", true);
  if (ckpt.find("rope_freqs.weight") != nullptr) {
    take("rope_freqs.weight", true);
  } else if (c.rope_scaling.type == RopeScaling::Type::kLlama3) {
    computed("rope_freqs.weight", llama3_rope_freq_factors(c));
  } else if (c.rope_scaling.type == RopeScaling::Type::kLongRope) {
    computed("rope_factors_long.weight", c.rope_scaling.long_factors);
    computed("rope_factors_short.weight", c.rope_scaling.short_factors);
  }
  const bool stacked_ffn = gguf_architecture(c) == "phi3";  // one ffn_up of gate and up rows
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = cat("blk.", l, ".");
    take(p + "attn_norm.weight", true);
    for (const char* proj : {"attn_q", "attn_k", "attn_v"}) {
      take(p + proj + ".weight", true);
      take(p + proj + ".bias", c.attn_qkv_bias);
    }
    if (c.attn_qk_norm) {
      take(p + "attn_q_norm.weight", true);
      take(p + "attn_k_norm.weight", true);
    }
    take(p + "attn_output.weight", true);
    if (c.post_norms) take(p + "post_attention_norm.weight", true);
    take(p + "ffn_norm.weight", true);
    if (c.is_moe()) {  // the router, then each kind's experts stacked in one 3-D tensor, as llama.cpp names them
      take(router_tensor_name(l), true);
      for (const char* kind : {"ffn_gate_exps", "ffn_down_exps", "ffn_up_exps"}) {
        std::vector<const TensorInfo*> parts;
        for (int64_t e = 0; e < c.n_experts; ++e) {
          const std::string name = expert_tensor_name(l, kind, e);
          const TensorInfo* t = ckpt.find(name);
          if (t == nullptr) throw Error(ckpt.path, cat("missing tensor ", name));
          if (t->shape.size() != 2 || (!parts.empty() && (t->shape != parts[0]->shape || t->dtype != parts[0]->dtype)))
            throw Error(ckpt.path, cat("tensor ", name, " (", dtype_name(t->dtype), " ", shape_string(t->shape),
                                       ") cannot be stacked with expert 0's"));
          parts.push_back(t);
          used.insert(name);
        }
        GgufTensorSource s =
            tensor_source(cat(p, kind, ".weight"), {c.n_experts, parts[0]->shape[0], parts[0]->shape[1]}, parts[0]);
        s.stacked = std::move(parts);
        plan.push_back(std::move(s));
      }
    } else if (stacked_ffn) {
      const TensorInfo* gate = ckpt.find(p + "ffn_gate.weight");
      const TensorInfo* up = ckpt.find(p + "ffn_up.weight");
      if (gate == nullptr || up == nullptr) throw Error(ckpt.path, cat("missing tensor ", p, gate ? "ffn_up" : "ffn_gate", ".weight"));
      if (gate->dtype != up->dtype || gate->shape.size() != 2 || gate->shape[1] != up->shape.back())
        throw Error(ckpt.path, cat(p, "ffn_gate.weight (", dtype_name(gate->dtype), " ", shape_string(gate->shape), ") and ",
                                   p, "ffn_up.weight (", dtype_name(up->dtype), " ", shape_string(up->shape),
                                   ") cannot be stacked into llama.cpp's phi3 ffn_up"));
      GgufTensorSource s = tensor_source(p + "ffn_up.weight", {gate->shape[0] + up->shape[0], gate->shape[1]}, gate);
      s.stacked = {gate, up};
      plan.push_back(std::move(s));
      used.insert(p + "ffn_gate.weight");
      used.insert(p + "ffn_up.weight");
    } else {
      take(p + "ffn_gate.weight", true);
      take(p + "ffn_up.weight", true);
    }
    take(p + "ffn_down.weight", !c.is_moe());
    if (c.post_norms) take(p + "post_ffw_norm.weight", true);
  }
  take("output_norm.weight", true);
  take("output.weight", !c.tied_embeddings);
  for (const auto& [name, t] : ckpt.tensors)
    if (!used.count(name))
      throw Error(ckpt.path, cat("tensor ", name, " ", shape_string(t.shape), " has no place in a ",
                                 gguf_architecture(c), " GGUF (llama.cpp would refuse the file)"));
  return plan;
}

void gguf_read_rows(float* dst, const GgufTensorSource& t, const ModelConfig& config, int64_t row0,
                    int64_t n_rows) {
  if (t.tensor == nullptr) {  // computed from the config
    LMPACK_CHECK(row0 == 0 && n_rows == 1 && !t.values.empty(), "a computed tensor is one row");
    std::copy(t.values.begin(), t.values.end(), dst);
    return;
  }
  if (!t.stacked.empty()) {  // rows of each part in turn (no RoPE'd tensor is stacked)
    for (const TensorInfo* part : t.stacked) {
      const int64_t rows = part->rows(), cols = part->cols();
      if (n_rows > 0 && row0 < rows) {
        const int64_t n = std::min(n_rows, rows - row0);
        decode_to_f32(dst, part->data + static_cast<size_t>(row0) * dtype_bytes(part->dtype, cols), part->dtype, n * cols);
        dst += n * cols;
        n_rows -= n;
        row0 = 0;
      } else {
        row0 -= rows;
      }
    }
    LMPACK_CHECK(n_rows == 0, "rows outside the stacked tensor");
    return;
  }
  const TensorInfo& src = *t.tensor;
  const int64_t cols = src.cols();
  const size_t row_bytes = dtype_bytes(src.dtype, cols);
  LMPACK_CHECK(row0 >= 0 && n_rows >= 0 && row0 + n_rows <= src.rows(), "rows outside the tensor");
  if (!t.rope_halves) {
    decode_to_f32(dst, src.data + static_cast<size_t>(row0) * row_bytes, src.dtype, n_rows * cols);
    return;
  }
  if (!t.is_matrix()) {  // a q/k bias or norm: permute its elements
    std::vector<float> all(static_cast<size_t>(cols));
    decode_to_f32(all.data(), src.data, src.dtype, cols);
    for (int64_t i = 0; i < cols; ++i) dst[i] = all[static_cast<size_t>(adjacent_index(i, config.head_dim, config.rotary_dims))];
    return;
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    const int64_t from = adjacent_index(row0 + r, config.head_dim, config.rotary_dims);
    decode_to_f32(dst + r * cols, src.data + static_cast<size_t>(from) * row_bytes, src.dtype, cols);
  }
}

void save_gguf(const Checkpoint& ckpt, const std::string& path, DType type, const std::string& model_name) {
  if (type != DType::F32 && type != DType::F16 && type != DType::BF16)
    throw Error(path, cat("the float converter writes f32, f16 or bf16, not ", dtype_name(type)));
  validate_checkpoint(ckpt);
  const std::vector<GgufTensorSource> plan = gguf_tensor_plan(ckpt);

  GgufWriter w(path);
  add_model_metadata(w, ckpt, llama_ftype_of(type), model_name.empty() ? model_name_of(ckpt.path) : model_name);
  if (!ckpt.recipe.empty()) w.add_string("lmpack.recipe", ckpt.recipe);  // the steps that made it
  std::vector<DType> types;
  for (const GgufTensorSource& t : plan) {
    types.push_back(t.is_matrix() ? type : DType::F32);
    w.add_tensor(t.name, types.back(), t.shape);
  }
  w.begin_data();

  std::vector<float> values;
  std::vector<uint8_t> bytes;
  for (size_t k = 0; k < plan.size(); ++k) {
    const GgufTensorSource& t = plan[k];
    const DType out = types[k];
    const int64_t cols = t.shape.back();
    const int64_t rows = t.rows();
    if (t.tensor != nullptr && t.tensor->dtype == out && !t.rope_halves) {  // already the target type: bit for bit
      for (const TensorInfo* part : t.parts()) w.append_tensor_bytes(part->data, part->nbytes);
      w.end_tensor();
      continue;
    }
    const int64_t chunk_rows = std::max<int64_t>(1, kChunkElements / cols);
    for (int64_t r = 0; r < rows; r += chunk_rows) {
      const int64_t n = std::min(chunk_rows, rows - r);
      values.resize(static_cast<size_t>(n * cols));
      gguf_read_rows(values.data(), t, ckpt.config, r, n);
      bytes.resize(dtype_bytes(out, n * cols));
      encode_f32_to(bytes.data(), values.data(), n * cols, out, t.name);
      w.append_tensor_bytes(bytes.data(), bytes.size());
    }
    w.end_tensor();
  }
  w.finish();
}

}  // namespace lmpack
