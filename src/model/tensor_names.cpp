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
    t.push_back({p + "ffn_gate.weight", {f, d}});
    t.push_back({p + "ffn_up.weight", {f, d}});
    t.push_back({p + "ffn_down.weight", {d, f}});
    if (cfg.post_norms) t.push_back({p + "post_ffw_norm.weight", {d}});
  }
  return t;
}

}  // namespace lmpack
