#include "model/hf_config.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/printable.h"
#include "core/text_file.h"
#include "io/json_text.h"

namespace lmpack {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxConfigBytes = uint64_t{16} << 20;  // real ones are a few KB

struct Architecture {
  const char* hf_class;
  const char* model_type;  // HF model_type
  const char* name;        // lmpack's architecture name
  bool qkv_bias;
  bool qk_norm;
  int gemma;  // 2, 3: GeGLU, (1 + w) norms, post-norms, scaled embedding (2: soft-caps; 3: local RoPE base)
  bool fused;  // q/k/v and gate/up stored as one matrix each (Phi-3)
};
constexpr Architecture kArchitectures[] = {
    {"LlamaForCausalLM", "llama", "llama", false, false, 0, false},
    {"MistralForCausalLM", "mistral", "mistral", false, false, 0, false},
    {"Qwen2ForCausalLM", "qwen2", "qwen2", true, false, 0, false},
    {"Qwen3ForCausalLM", "qwen3", "qwen3", false, true, 0, false},
    {"Gemma2ForCausalLM", "gemma2", "gemma2", false, false, 2, false},
    {"Gemma3ForCausalLM", "gemma3_text", "gemma3", false, true, 3, false},
    {"Phi3ForCausalLM", "phi3", "phi3", false, false, 0, true},
    {"SmolLM3ForCausalLM", "smollm3", "smollm3", false, false, 0, false},
    {"MixtralForCausalLM", "mixtral", "mixtral", false, false, 0, false},
    {"Qwen3MoeForCausalLM", "qwen3_moe", "qwen3moe", false, true, 0, false},
};

std::string supported_list() {
  std::string s;
  for (const auto& a : kArchitectures) s += cat(s.empty() ? "" : ", ", a.hf_class);
  return s;
}

// Typed access to one config object; every error names the file and the key.
class Reader {
 public:
  Reader(const json& j, std::string where, std::string prefix = "")
      : j_(j), where_(std::move(where)), prefix_(std::move(prefix)) {}

  // The value, or nullptr when absent or JSON null.
  const json* get(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  const json& require(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) throw Error(where_, cat("missing key '", prefix_, key, "'"));
    return *v;
  }
  [[noreturn]] void wrong(const char* key, const char* expected, const json& v) const {
    throw Error(where_, cat("key '", prefix_, key, "' must be ", expected, ", got ", v.type_name(), " ", json_excerpt(v)));
  }
  int64_t to_int(const char* key, const json& v) const {
    if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
    if (v.is_number_unsigned()) {
      uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) wrong(key, "an integer in int64 range", v);
      return static_cast<int64_t>(u);
    }
    wrong(key, "an integer", v);
  }
  double to_float(const char* key, const json& v) const {
    if (!v.is_number()) wrong(key, "a number", v);
    return v.get<double>();
  }
  int64_t integer(const char* key) const { return to_int(key, require(key)); }
  int64_t integer(const char* key, int64_t fallback) const {
    const json* v = get(key);
    return v ? to_int(key, *v) : fallback;
  }
  double number(const char* key) const { return to_float(key, require(key)); }
  double number(const char* key, double fallback) const {
    const json* v = get(key);
    return v ? to_float(key, *v) : fallback;
  }
  bool boolean(const char* key, bool fallback) const {
    const json* v = get(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) wrong(key, "true or false", *v);
    return v->get<bool>();
  }
  std::string string(const char* key) const {
    const json& v = require(key);
    if (!v.is_string()) wrong(key, "a string", v);
    return v.get<std::string>();
  }
  const std::string& where() const { return where_; }

 private:
  const json& j_;
  std::string where_;
  std::string prefix_;
};

const Architecture& find_architecture(const Reader& r) {
  std::string name;
  if (const json* a = r.get("architectures")) {
    if (!a->is_array() || a->empty() || !(*a)[0].is_string())
      r.wrong("architectures", "a non-empty array of strings", *a);
    name = (*a)[0].get<std::string>();
    for (const auto& arch : kArchitectures)
      if (name == arch.hf_class) return arch;
  } else if (r.get("model_type") != nullptr) {
    name = r.string("model_type");
    for (const auto& arch : kArchitectures)
      if (name == arch.model_type) return arch;
  } else {
    throw Error(r.where(), "missing key 'architectures'");
  }
  throw Error(r.where(), cat("unsupported architecture '", printable(name), "' (supported: ", supported_list(), ")"));
}

RopeScaling parse_rope_scaling(const Reader& r) {
  RopeScaling s;
  const json* v = r.get("rope_scaling");
  if (v == nullptr) return s;
  if (!v->is_object()) r.wrong("rope_scaling", "an object or null", *v);
  Reader rs(*v, r.where(), "rope_scaling.");
  std::string type;
  if (rs.get("rope_type") != nullptr) type = rs.string("rope_type");
  else if (rs.get("type") != nullptr) type = rs.string("type");
  else throw Error(r.where(), "missing key 'rope_scaling.rope_type'");
  if (type == "default") return s;
  if (type == "longrope" || type == "su") {  // Phi-3; the lengths and attention factor: parse_phi3
    s.type = RopeScaling::Type::kLongRope;
    for (auto [key, out] : {std::pair{"short_factor", &s.short_factors}, {"long_factor", &s.long_factors}}) {
      const json& v = rs.require(key);
      if (!v.is_array() || v.empty()) rs.wrong(key, "a non-empty array of numbers", v);
      for (const json& f : v) {
        if (!f.is_number()) rs.wrong(key, "an array of numbers", v);
        out->push_back(static_cast<float>(f.get<double>()));
      }
    }
    s.attention_factor = static_cast<float>(rs.number("attention_factor", 0.0));  // 0: derived
    return s;
  }
  if (type == "linear") {
    s.type = RopeScaling::Type::kLinear;
    s.factor = static_cast<float>(rs.number("factor"));
    if (!(s.factor > 0.0f) || !std::isfinite(s.factor))
      throw Error(r.where(), cat("rope_scaling linear factor must be positive, got ", s.factor));
    return s;
  }
  if (type != "llama3")
    throw Error(r.where(),
                cat("rope_scaling type '", printable(type),
                    "' is not supported (supported: llama3, linear, longrope, default)"));
  s.type = RopeScaling::Type::kLlama3;
  s.factor = static_cast<float>(rs.number("factor"));
  s.low_freq_factor = static_cast<float>(rs.number("low_freq_factor"));
  s.high_freq_factor = static_cast<float>(rs.number("high_freq_factor"));
  s.original_max_position = rs.integer("original_max_position_embeddings");
  if (!(s.factor >= 1.0f) || !(s.low_freq_factor > 0.0f) || !(s.high_freq_factor > s.low_freq_factor) ||
      s.original_max_position <= 0)
    throw Error(r.where(), cat("rope_scaling llama3 values are inconsistent: factor ", s.factor, ", low_freq_factor ",
                               s.low_freq_factor, ", high_freq_factor ", s.high_freq_factor,
                               ", original_max_position_embeddings ", s.original_max_position));
  return s;
}

// Shortest decimal that reads back as the same float, as a JSON double.
json float_json(float f) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f);
  *res.ptr = '\0';
  return json(std::strtod(buf, nullptr));
}

const char* torch_dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    default: throw Error("config", cat("torch_dtype ", dtype_name(t), " has no Hugging Face spelling"));
  }
}

// A soft-cap: a positive number, or null / absent for none.
float softcap_key(const Reader& r, const char* key) {
  const double v = r.number(key, 0.0);
  if (!(v >= 0.0) || !std::isfinite(v)) r.wrong(key, "a positive number or null", *r.get(key));
  return static_cast<float>(v);
}

// Gemma 2's and Gemma 3's fields (Gemma2Config, Gemma3TextConfig); see hf_config.h.
void parse_gemma(const Reader& r, int version, ModelConfig& c) {
  for (const char* key : {"hidden_activation", "hidden_act"}) {
    if (r.get(key) == nullptr) continue;
    const std::string act = r.string(key);
    if (act != "gelu_pytorch_tanh" && act != "gelu_tanh")
      throw Error(r.where(), cat(key, " '", printable(act), "' is not supported (gelu_pytorch_tanh)"));
  }
  set_gemma_block(c);
  const double scalar = r.number("query_pre_attn_scalar", static_cast<double>(c.head_dim));
  if (!(scalar > 0.0) || !std::isfinite(scalar)) r.wrong("query_pre_attn_scalar", "a positive number", *r.get("query_pre_attn_scalar"));
  c.attention_scale = static_cast<float>(1.0 / std::sqrt(scalar));
  c.attn_softcap = softcap_key(r, "attn_logit_softcapping");
  c.final_softcap = softcap_key(r, "final_logit_softcapping");
  c.sliding_window = r.integer("sliding_window", 0);
  // Gemma 2: even layers local, odd global; Gemma 3: every sixth global.
  c.sliding_window_pattern = version == 2 ? 2 : r.integer("sliding_window_pattern", 6);
  if (version == 3) {
    c.rope_theta_local = static_cast<float>(r.number("rope_local_base_freq", 10000.0));
    if (c.attn_softcap > 0.0f)
      throw Error(r.where(), "attn_logit_softcapping is set; Gemma 3 (and llama.cpp's gemma3) has none");
  }
  if (const json* types = r.get("layer_types")) {  // newer configs spell the pattern out
    if (!types->is_array() || static_cast<int64_t>(types->size()) != c.n_layers)
      r.wrong("layer_types", "an array with one entry per layer", *types);
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const json& t = (*types)[static_cast<size_t>(l)];
      const bool local = t.is_string() && t.get<std::string>() == "sliding_attention";
      const bool global = t.is_string() && t.get<std::string>() == "full_attention";
      const bool expected_local = (l + 1) % c.sliding_window_pattern != 0;
      if ((!local && !global) || local != expected_local)
        throw Error(r.where(), cat("layer_types[", l, "] is ", json_excerpt(t), "; lmpack runs one full_attention ",
                                   "layer in every ", c.sliding_window_pattern, ", the last"));
    }
  }
}

// Phi-3's fields (Phi3Config): partial_rotary_factor, and LongRoPE's lengths
// and attention factor as transformers derives them.
void parse_phi3(const Reader& r, ModelConfig& c) {
  const double partial = r.number("partial_rotary_factor", 1.0);
  if (!(partial > 0.0 && partial <= 1.0)) r.wrong("partial_rotary_factor", "a number in (0, 1]", *r.get("partial_rotary_factor"));
  if (c.head_dim <= 0 || c.head_dim > kMaxModelWidth) return;  // validate names it
  const auto rotary = static_cast<int64_t>(partial * static_cast<double>(c.head_dim));
  if (rotary % 2 != 0 || static_cast<double>(rotary) != partial * static_cast<double>(c.head_dim))
    throw Error(r.where(), cat("partial_rotary_factor ", partial, " of head_dim ", c.head_dim,
                               " is not a whole, even number of dimensions"));
  if (rotary != c.head_dim) c.rotary_dims = rotary;
  if (const json* w = r.get("sliding_window")) c.sliding_window = r.to_int("sliding_window", *w);
  RopeScaling& s = c.rope_scaling;
  if (s.type != RopeScaling::Type::kLongRope) return;
  s.original_max_position = r.integer("original_max_position_embeddings", c.context_length);
  if (s.original_max_position <= 0)
    throw Error(r.where(), cat("original_max_position_embeddings must be positive, got ", s.original_max_position));
  if (s.attention_factor == 0.0f) s.attention_factor = longrope_attention_factor(c.context_length, s.original_max_position);
}

// SmolLM3's no_rope_layers (1: the layer rotates) must be the pattern of
// no_rope_layer_interval that llama.cpp's smollm3 runs: every n-th layer without.
void parse_smollm3(const Reader& r, ModelConfig& c) {
  c.nope_interval = r.integer("no_rope_layer_interval", 4);
  if (c.nope_interval <= 0) r.wrong("no_rope_layer_interval", "a positive integer", *r.get("no_rope_layer_interval"));
  const json* layers = r.get("no_rope_layers");
  if (layers == nullptr) return;
  if (!layers->is_array() || static_cast<int64_t>(layers->size()) != c.n_layers)
    r.wrong("no_rope_layers", "an array with one entry per layer", *layers);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const json& v = (*layers)[static_cast<size_t>(l)];
    const int64_t expected = c.layer_has_rope(l) ? 1 : 0;
    if (!v.is_number_integer() || v.get<int64_t>() != expected)
      throw Error(r.where(), cat("no_rope_layers[", l, "] is ", json_excerpt(v), "; lmpack (as llama.cpp) runs ",
                                 "every layer with RoPE but each ", c.nope_interval, "-th (no_rope_layer_interval)"));
  }
}

// The mixture of experts of Mixtral (MixtralConfig: num_local_experts of
// intermediate_size, always renormalized) and Qwen3-MoE (Qwen3MoeConfig:
// num_experts of moe_intermediate_size, norm_topk_prob, every layer sparse).
void parse_moe(const Reader& r, ModelConfig& c) {
  const bool mixtral = c.architecture == "mixtral";
  c.n_experts = r.integer(mixtral ? "num_local_experts" : "num_experts");
  c.n_experts_used = r.integer("num_experts_per_tok");
  c.expert_hidden_dim = mixtral ? c.hidden_dim : r.integer("moe_intermediate_size");
  if (c.n_experts <= 0 || c.n_experts > kMaxExperts)
    throw Error(r.where(), cat(mixtral ? "num_local_experts " : "num_experts ", c.n_experts, " must be in [1, ",
                               kMaxExperts, "]"));
  if (c.n_experts_used <= 0 || c.n_experts_used > c.n_experts)
    throw Error(r.where(), cat("num_experts_per_tok ", c.n_experts_used, " must be in [1, ", c.n_experts, "]"));
  if (mixtral) {
    c.sliding_window = r.integer("sliding_window", 0);  // null: none
    return;
  }
  c.norm_topk_prob = r.boolean("norm_topk_prob", false);  // Qwen3MoeConfig's default
  if (r.integer("decoder_sparse_step", 1) != 1)
    throw Error(r.where(), "decoder_sparse_step other than 1 (dense layers between the sparse ones) is not supported");
  if (const json* dense = r.get("mlp_only_layers"); dense != nullptr && !(dense->is_array() && dense->empty()))
    throw Error(r.where(), cat("mlp_only_layers ", json_excerpt(*dense), " (dense layers among the sparse ones) is not "
                               "supported"));
  if (r.integer("shared_expert_intermediate_size", 0) != 0)
    throw Error(r.where(), "shared_expert_intermediate_size (a shared expert) is not supported");
}

}  // namespace

ModelConfig parse_hf_config(const std::string& json_text, const std::string& where) {
  json j = parse_json_text(json_text, where);
  if (!j.is_object()) throw Error(where, cat("expected a JSON object, got ", j.type_name()));
  Reader r(j, where);

  const Architecture& arch = find_architecture(r);
  ModelConfig c;
  c.architecture = arch.name;
  c.dim = r.integer("hidden_size");
  c.hidden_dim = r.integer("intermediate_size");
  c.n_layers = r.integer("num_hidden_layers");
  c.n_heads = r.integer("num_attention_heads");
  c.n_kv_heads = r.integer("num_key_value_heads", c.n_heads);
  c.vocab_size = r.integer("vocab_size");
  c.context_length = r.integer("max_position_embeddings");
  if (c.n_heads <= 0) throw Error(where, cat("num_attention_heads must be positive, got ", c.n_heads));
  if ((arch.qk_norm || arch.gemma) && r.get("head_dim") == nullptr) r.require("head_dim");  // throws: see hf_config.h
  c.head_dim = r.integer("head_dim", c.dim / c.n_heads);
  if (r.get("head_dim") == nullptr && c.dim % c.n_heads != 0)
    throw Error(where, cat("hidden_size ", c.dim, " is not a multiple of num_attention_heads ", c.n_heads,
                           " and head_dim is not given"));
  c.rms_eps = static_cast<float>(r.number("rms_norm_eps", 1e-6));
  c.rope_theta = static_cast<float>(r.number("rope_theta", 10000.0));
  c.rope_scaling = parse_rope_scaling(r);
  c.tied_embeddings = r.boolean("tie_word_embeddings", arch.gemma != 0);  // Gemma configs tie by default
  c.attn_qkv_bias = arch.qkv_bias;
  c.attn_qk_norm = arch.qk_norm;
  if (r.boolean("use_sliding_window", false))
    throw Error(where, "use_sliding_window true is not supported (Qwen's windowed upper layers are not implemented)");
  if (c.architecture == "mistral") c.sliding_window = r.integer("sliding_window", 0);  // null: none

  if (c.architecture == "phi3") parse_phi3(r, c);
  if (c.architecture == "smollm3") parse_smollm3(r, c);
  if (c.architecture == "mixtral" || c.architecture == "qwen3moe") parse_moe(r, c);
  if (c.rope_scaling.type == RopeScaling::Type::kLongRope && c.architecture != "phi3")
    throw Error(where, "rope_scaling longrope is read for Phi3ForCausalLM only");
  if (arch.gemma != 0) {
    parse_gemma(r, arch.gemma, c);
  } else if (r.get("hidden_act") != nullptr) {
    std::string act = r.string("hidden_act");
    if (act != "silu") throw Error(where, cat("hidden_act '", printable(act), "' is not supported (only silu)"));
  }
  if (r.boolean("attention_bias", false) && !arch.qkv_bias)
    throw Error(where, "attention_bias true (biases on q/k/v/o) is not supported");
  if (r.boolean("mlp_bias", false)) throw Error(where, "mlp_bias true is not supported");
  c.validate(where);
  return c;
}

ModelConfig read_hf_config(const std::string& path) {
  return parse_hf_config(read_text_file(path, kMaxConfigBytes, "config.json"), path);
}

std::string hf_config_recipe(const std::string& json_text) {
  const nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (!j.is_object()) return "";
  const nlohmann::json* r = nullptr;
  if (auto it = j.find("lmpack_recipe"); it != j.end()) r = &*it;
  if (auto q = j.find("quantization_config"); r == nullptr && q != j.end() && q->is_object())
    if (auto it = q->find("lmpack_recipe"); it != q->end()) r = &*it;
  return r != nullptr && r->is_array() ? r->dump() : "";
}

int hf_gemma_version(const std::string& architecture) {
  for (const auto& a : kArchitectures)
    if (architecture == a.name) return a.gemma;
  return 0;
}

bool hf_fused_projections(const std::string& architecture) {
  for (const auto& a : kArchitectures)
    if (architecture == a.name) return a.fused;
  return false;
}

float longrope_attention_factor(int64_t max_positions, int64_t original_max_positions) {
  const double original = static_cast<double>(original_max_positions);
  const double factor = static_cast<double>(max_positions) / original;
  return factor <= 1.0 ? 1.0f : static_cast<float>(std::sqrt(1.0 + std::log(factor) / std::log(original)));
}

float hf_norm_offset(const std::string& architecture) { return hf_gemma_version(architecture) != 0 ? 1.0f : 0.0f; }

std::string hf_architecture_class(const std::string& architecture) {
  for (const auto& a : kArchitectures)
    if (architecture == a.name) return a.hf_class;
  throw Error("config", cat("architecture '", architecture, "' has no Hugging Face class (supported: ", supported_list(), ")"));
}

std::string hf_config_to_json(const ModelConfig& config, const HfConfigExtras& extras) {
  const Architecture* arch = nullptr;
  for (const auto& a : kArchitectures)
    if (config.architecture == a.name) arch = &a;
  if (arch == nullptr) hf_architecture_class(config.architecture);  // throws
  if (config.attn_qkv_bias != arch->qkv_bias)
    throw Error("config", cat(arch->hf_class, config.attn_qkv_bias ? " cannot carry q/k/v biases"
                                                                   : " always has q/k/v biases"));
  const bool gemma = arch->gemma != 0;
  if (config.post_norms != gemma || (config.ffn_activation == FfnActivation::kGeluTanh) != gemma)
    throw Error("config", cat(arch->hf_class, gemma ? " always has post-norms and tanh GELU"
                                                          : " has no post-norms and uses SiLU"));
  if (config.attn_qk_norm != arch->qk_norm)
    throw Error("config", cat(arch->hf_class, config.attn_qk_norm ? " has no per-head q/k norms"
                                                                  : " always has per-head q/k norms"));
  nlohmann::ordered_json j;
  j["architectures"] = {arch->hf_class};
  j["model_type"] = arch->model_type;
  j["hidden_size"] = config.dim;
  j["intermediate_size"] = config.hidden_dim;
  j["num_hidden_layers"] = config.n_layers;
  j["num_attention_heads"] = config.n_heads;
  j["num_key_value_heads"] = config.n_kv_heads;
  if (arch->qk_norm || gemma || config.n_heads <= 0 || config.head_dim * config.n_heads != config.dim)
    j["head_dim"] = config.head_dim;
  j["vocab_size"] = config.vocab_size;
  j["max_position_embeddings"] = config.context_length;
  j["rms_norm_eps"] = float_json(config.rms_eps);
  j["rope_theta"] = float_json(config.rope_theta);
  if (config.rope_scaling.type == RopeScaling::Type::kLlama3) {
    const RopeScaling& s = config.rope_scaling;
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", float_json(s.factor)},
                         {"low_freq_factor", float_json(s.low_freq_factor)},
                         {"high_freq_factor", float_json(s.high_freq_factor)},
                         {"original_max_position_embeddings", s.original_max_position}};
  } else if (config.rope_scaling.type == RopeScaling::Type::kLinear) {
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", float_json(config.rope_scaling.factor)}};
  } else if (config.rope_scaling.type == RopeScaling::Type::kLongRope) {
    if (config.architecture != "phi3") throw Error("config", "longrope scaling has a Hugging Face form in Phi-3 only");
    const RopeScaling& s = config.rope_scaling;
    std::vector<double> short_f, long_f;  // each the shortest decimal of its float
    for (float f : s.short_factors) short_f.push_back(float_json(f).get<double>());
    for (float f : s.long_factors) long_f.push_back(float_json(f).get<double>());
    j["rope_scaling"] = {{"type", "longrope"},
                         {"short_factor", short_f},
                         {"long_factor", long_f},
                         {"attention_factor", float_json(s.attention_factor)}};
    j["original_max_position_embeddings"] = s.original_max_position;
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["hidden_act"] = gemma ? "gelu_pytorch_tanh" : "silu";
  if (config.is_moe() != (config.architecture == "mixtral" || config.architecture == "qwen3moe"))
    throw Error("config", cat(arch->hf_class, config.is_moe() ? " has no experts" : " always has experts"));
  if (config.architecture == "mixtral") {
    if (config.expert_hidden_dim != config.hidden_dim || !config.norm_topk_prob)
      throw Error("config", "MixtralForCausalLM's experts are intermediate_size wide and always renormalized");
    j["num_local_experts"] = config.n_experts;
    j["num_experts_per_tok"] = config.n_experts_used;
  } else if (config.architecture == "qwen3moe") {
    j["num_experts"] = config.n_experts;
    j["num_experts_per_tok"] = config.n_experts_used;
    j["moe_intermediate_size"] = config.expert_hidden_dim;
    j["norm_topk_prob"] = config.norm_topk_prob;
    j["decoder_sparse_step"] = 1;
    j["mlp_only_layers"] = nlohmann::ordered_json::array();
  }
  if (config.architecture == "mistral" || config.architecture == "phi3" || config.architecture == "mixtral")
    j["sliding_window"] = config.sliding_window > 0 ? nlohmann::ordered_json(config.sliding_window) : nullptr;
  else if (config.sliding_window > 0 && !gemma)
    throw Error("config", cat(arch->hf_class, " has no sliding window"));
  if (config.rotary_dims > 0 && config.rotary_dims != config.head_dim) {
    if (config.architecture != "phi3") throw Error("config", cat(arch->hf_class, " turns whole heads (no partial rotary)"));
    j["partial_rotary_factor"] = static_cast<double>(config.rotary_dims) / static_cast<double>(config.head_dim);
  }
  if (config.nope_interval > 0) {
    if (config.architecture != "smollm3") throw Error("config", cat(arch->hf_class, " rotates every layer"));
    j["no_rope_layer_interval"] = config.nope_interval;
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (int64_t l = 0; l < config.n_layers; ++l) layers.push_back(config.layer_has_rope(l) ? 1 : 0);
    j["no_rope_layers"] = layers;
    j["use_sliding_window"] = false;
  } else if (config.architecture == "smollm3") {
    throw Error("config", "SmolLM3ForCausalLM needs its no-RoPE layer interval");
  }
  if (gemma) {
    j["hidden_activation"] = "gelu_pytorch_tanh";
    j["query_pre_attn_scalar"] = std::nearbyint(1.0 / (static_cast<double>(config.attention_score_scale()) *
                                                       config.attention_score_scale()));
    j["attn_logit_softcapping"] = config.attn_softcap > 0.0f ? float_json(config.attn_softcap) : nlohmann::json();
    j["final_logit_softcapping"] = config.final_softcap > 0.0f ? float_json(config.final_softcap) : nlohmann::json();
    j["sliding_window"] = config.sliding_window > 0 ? nlohmann::ordered_json(config.sliding_window) : nullptr;
    j["attention_bias"] = false;
    if (arch->gemma == 3) {
      j["sliding_window_pattern"] = config.sliding_window_pattern;
      j["rope_local_base_freq"] = float_json(config.rope_theta_local);
    }
  }
  if (arch->qk_norm && !gemma) {  // Qwen3Config's keys for what lmpack runs: no biases, full attention
    j["attention_bias"] = false;
    j["use_sliding_window"] = false;
  }
  j["tie_word_embeddings"] = config.tied_embeddings;
  if (extras.bos_token_id >= 0) j["bos_token_id"] = extras.bos_token_id;
  if (extras.eos_token_id >= 0) j["eos_token_id"] = extras.eos_token_id;
  j["torch_dtype"] = torch_dtype_name(extras.torch_dtype);
  if (!extras.recipe.empty()) j["lmpack_recipe"] = nlohmann::json::parse(extras.recipe);
  return j.dump(2) + "\n";
}

}  // namespace lmpack
