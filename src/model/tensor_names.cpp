// Canonical tensor names; see tensor_names.h.
#include "model/tensor_names.h"

#include <string_view>

#include "core/error.h"

namespace lmpack {

bool split_block(const std::string& name, int64_t* layer, std::string* rest) {
  if (name.compare(0, 4, "blk.") != 0) return false;
  const size_t dot = name.find('.', 4);
  if (dot == std::string::npos || dot == 4) return false;
  int64_t n = 0;
  for (size_t i = 4; i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9' || n > (int64_t{1} << 40)) return false;
    n = n * 10 + (name[i] - '0');
  }
  *layer = n;
  *rest = name.substr(dot + 1);
  return true;
}

const std::vector<std::string>& block_linear_suffixes() {
  static const std::vector<std::string> kSuffixes = {"attn_q.weight",   "attn_k.weight", "attn_v.weight",
                                                     "attn_output.weight", "ffn_gate.weight", "ffn_up.weight",
                                                     "ffn_down.weight"};
  return kSuffixes;
}

std::vector<std::string> block_linear_names(int64_t layer) {
  std::vector<std::string> names;
  for (const std::string& s : block_linear_suffixes()) names.push_back(cat("blk.", layer, ".", s));
  return names;
}

std::string expert_tensor_name(int64_t layer, const char* kind, int64_t expert) {
  return cat("blk.", layer, ".", kind, ".", expert, ".weight");
}

std::string router_tensor_name(int64_t layer) { return cat("blk.", layer, ".ffn_gate_inp.weight"); }

bool is_expert_router(const std::string& name) {
  int64_t layer = 0;
  std::string rest;
  return split_block(name, &layer, &rest) && rest == "ffn_gate_inp.weight";
}

bool split_expert_name(const std::string& name, int64_t* layer, std::string* kind, int64_t* expert) {
  std::string rest;
  if (!split_block(name, layer, &rest)) return false;
  const size_t dot = rest.find('.');
  if (dot == std::string::npos) return false;
  const std::string k = rest.substr(0, dot);
  if (k != "ffn_gate_exps" && k != "ffn_up_exps" && k != "ffn_down_exps") return false;
  const std::string tail = rest.substr(dot + 1);  // "E.weight"
  const size_t end = tail.find('.');
  if (end == std::string::npos || end == 0 || end > 6 || tail.substr(end) != ".weight") return false;
  int64_t e = 0;
  for (size_t i = 0; i < end; ++i) {
    if (tail[i] < '0' || tail[i] > '9') return false;
    e = e * 10 + (tail[i] - '0');
  }
  *kind = k;
  *expert = e;
  return true;
}

std::vector<std::string> block_linear_names(int64_t layer, const ModelConfig& config) {
  if (!config.is_moe()) return block_linear_names(layer);
  std::vector<std::string> names = block_linear_names(layer);
  names.resize(4);  // q, k, v, o
  for (int64_t e = 0; e < config.n_experts; ++e)
    for (const char* kind : kExpertKinds)
      names.push_back(expert_tensor_name(layer, kind, e));
  return names;
}

bool is_query_or_key(const std::string& name) {
  int64_t layer = 0;
  std::string rest;
  return split_block(name, &layer, &rest) &&
         (rest == "attn_q.weight" || rest == "attn_k.weight" || rest == "attn_q.bias" || rest == "attn_k.bias");
}

bool is_query_or_key_norm(const std::string& name) {
  int64_t layer = 0;
  std::string rest;
  return split_block(name, &layer, &rest) && (rest == "attn_q_norm.weight" || rest == "attn_k_norm.weight");
}

bool is_norm_weight(const std::string& name) {
  constexpr std::string_view kSuffix = "norm.weight";
  return name.size() >= kSuffix.size() && name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

std::vector<TensorShape> model_tensor_shapes(const ModelConfig& cfg) {
  const int64_t d = cfg.dim, f = cfg.hidden_dim, q = cfg.q_dim(), kv = cfg.kv_dim();
  std::vector<TensorShape> t = {{"token_embd.weight", {cfg.vocab_size, d}}, {"output_norm.weight", {d}}};
  if (!cfg.tied_embeddings) t.push_back({"output.weight", {cfg.vocab_size, d}});
  for (int64_t l = 0; l < cfg.n_layers; ++l) {
    const std::string p = cat("blk.", l, ".");
    t.push_back({p + "attn_norm.weight", {d}});
    t.push_back({p + "attn_q.weight", {q, d}});
    t.push_back({p + "attn_k.weight", {kv, d}});
    t.push_back({p + "attn_v.weight", {kv, d}});
    if (cfg.attn_qkv_bias) {
      t.push_back({p + "attn_q.bias", {q}});
      t.push_back({p + "attn_k.bias", {kv}});
      t.push_back({p + "attn_v.bias", {kv}});
    }
    if (cfg.attn_qk_norm) {
      t.push_back({p + "attn_q_norm.weight", {cfg.head_dim}});
      t.push_back({p + "attn_k_norm.weight", {cfg.head_dim}});
    }
    t.push_back({p + "attn_output.weight", {d, q}});
    if (cfg.post_norms) t.push_back({p + "post_attention_norm.weight", {d}});
    t.push_back({p + "ffn_norm.weight", {d}});
    if (cfg.is_moe()) {
      const int64_t fe = cfg.expert_hidden_dim;
      t.push_back({router_tensor_name(l), {cfg.n_experts, d}});
      for (int64_t e = 0; e < cfg.n_experts; ++e) {
        t.push_back({expert_tensor_name(l, "ffn_gate_exps", e), {fe, d}});
        t.push_back({expert_tensor_name(l, "ffn_up_exps", e), {fe, d}});
        t.push_back({expert_tensor_name(l, "ffn_down_exps", e), {d, fe}});
      }
    } else {
      t.push_back({p + "ffn_gate.weight", {f, d}});
      t.push_back({p + "ffn_up.weight", {f, d}});
      t.push_back({p + "ffn_down.weight", {d, f}});
    }
    if (cfg.post_norms) t.push_back({p + "post_ffw_norm.weight", {d}});
  }
  return t;
}

}  // namespace lmpack
