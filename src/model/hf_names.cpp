#include "model/hf_names.h"

#include <charconv>
#include <cstring>

#include "core/error.h"
#include "model/hf_config.h"

namespace lmpack {
namespace {

struct NamePair {
  std::string_view hf;
  std::string_view canonical;
};

// Whole-model tensors.
constexpr NamePair kGlobalNames[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

// Per-layer tensors: "model.layers.N." + hf  <->  "blk.N." + canonical.
constexpr NamePair kLayerNames[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

// Gemma 2's per-layer norms, looked up before kLayerNames.
constexpr NamePair kGemmaLayerNames[] = {
    {"post_attention_layernorm.weight", "post_attention_norm.weight"},
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
};

// Phi-3's fused projections (hf_fused_projections): one HF tensor for rows
// stacked q, k, v and one for gate, up, under fused canonical names that
// split_fused_projections (model/fused_projections.h) takes apart.
constexpr NamePair kFusedLayerNames[] = {
    {"self_attn.qkv_proj.weight", "attn_qkv.weight"},
    {"mlp.gate_up_proj.weight", "ffn_gate_up.weight"},
};
// The canonical tensors a fused architecture has no HF name of their own for.
constexpr std::string_view kFusedParts[] = {"attn_q.weight", "attn_k.weight", "attn_v.weight", "ffn_gate.weight",
                                            "ffn_up.weight"};

// Mixture-of-experts blocks: the router and expert E's matrices, after
// "model.layers.N." (model/tensor_names.h: expert_tensor_name).
struct MoeNames {
  std::string_view architecture;
  std::string_view router;         // -> ffn_gate_inp.weight
  std::string_view expert_prefix;  // + "E." + projection + ".weight"
  std::string_view gate, up, down;
};
constexpr MoeNames kMoeNames[] = {
    {"mixtral", "block_sparse_moe.gate.weight", "block_sparse_moe.experts.", "w1", "w3", "w2"},
    {"qwen3moe", "mlp.gate.weight", "mlp.experts.", "gate_proj", "up_proj", "down_proj"},
};

// Expert and router names of a mixture-of-experts block, either way; nullopt
// when `rest` is neither.
std::optional<std::string> translate_moe(const MoeNames& m, std::string_view rest, bool to_canonical) {
  const std::pair<std::string_view, std::string_view> kinds[] = {
      {m.gate, "ffn_gate_exps"}, {m.up, "ffn_up_exps"}, {m.down, "ffn_down_exps"}};
  if (to_canonical) {
    if (rest == m.router) return std::string("ffn_gate_inp.weight");
    if (rest.substr(0, m.expert_prefix.size()) != m.expert_prefix) return std::nullopt;
    rest.remove_prefix(m.expert_prefix.size());
    const size_t dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot > 6 || (dot > 1 && rest[0] == '0')) return std::nullopt;
    for (size_t i = 0; i < dot; ++i)
      if (rest[i] < '0' || rest[i] > '9') return std::nullopt;
    const std::string_view expert = rest.substr(0, dot), proj = rest.substr(dot + 1);
    for (const auto& [hf, canonical] : kinds)
      if (proj.size() == hf.size() + 7 && proj.substr(0, hf.size()) == hf && proj.substr(hf.size()) == ".weight")
        return cat(canonical, ".", expert, ".weight");
    return std::nullopt;
  }
  if (rest == "ffn_gate_inp.weight") return std::string(m.router);
  for (const auto& [hf, canonical] : kinds) {
    if (rest.substr(0, canonical.size() + 1) != cat(canonical, ".")) continue;
    std::string_view tail = rest.substr(canonical.size() + 1);  // "E.weight"
    const size_t dot = tail.find('.');
    if (dot == std::string_view::npos || tail.substr(dot) != ".weight") return std::nullopt;
    return cat(m.expert_prefix, tail.substr(0, dot), ".", hf, ".weight");
  }
  return std::nullopt;
}

constexpr std::string_view kHfLayerPrefix = "model.layers.";
constexpr std::string_view kCanonicalLayerPrefix = "blk.";

// Splits "<prefix>N.<rest>" into N and rest; false when it does not match.
bool split_layer(std::string_view name, std::string_view prefix, int64_t* layer, std::string_view* rest) {
  if (name.substr(0, prefix.size()) != prefix) return false;
  name.remove_prefix(prefix.size());
  size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  std::string_view digits = name.substr(0, dot);
  if (digits.size() > 1 && digits[0] == '0') return false;  // "01" is not a layer number
  for (char ch : digits)
    if (ch < '0' || ch > '9') return false;
  auto res = std::from_chars(digits.data(), digits.data() + digits.size(), *layer);
  if (res.ec != std::errc() || res.ptr != digits.data() + digits.size()) return false;
  *rest = name.substr(dot + 1);
  return true;
}

std::optional<std::string> translate(std::string_view name, bool to_canonical, std::string_view architecture) {
  for (const NamePair& p : kGlobalNames)
    if (name == (to_canonical ? p.hf : p.canonical)) return std::string(to_canonical ? p.canonical : p.hf);
  const std::string_view from_prefix = to_canonical ? kHfLayerPrefix : kCanonicalLayerPrefix;
  const std::string_view to_prefix = to_canonical ? kCanonicalLayerPrefix : kHfLayerPrefix;
  int64_t layer = 0;
  std::string_view rest;
  if (!split_layer(name, from_prefix, &layer, &rest)) return std::nullopt;
  for (const MoeNames& m : kMoeNames)
    if (architecture == m.architecture)
      if (std::optional<std::string> r = translate_moe(m, rest, to_canonical))
        return cat(to_prefix, layer, ".", *r);
  if (hf_fused_projections(std::string(architecture))) {
    for (const NamePair& p : kFusedLayerNames)
      if (rest == (to_canonical ? p.hf : p.canonical))
        return cat(to_prefix, layer, ".", to_canonical ? p.canonical : p.hf);
    for (std::string_view part : kFusedParts)
      if (!to_canonical && rest == part) return std::nullopt;
  }
  if (hf_gemma_version(std::string(architecture)) != 0)
    for (const NamePair& p : kGemmaLayerNames)
      if (rest == (to_canonical ? p.hf : p.canonical))
        return cat(to_prefix, layer, ".", to_canonical ? p.canonical : p.hf);
  for (const NamePair& p : kLayerNames)
    if (rest == (to_canonical ? p.hf : p.canonical))
      return cat(to_prefix, layer, ".", to_canonical ? p.canonical : p.hf);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> hf_to_canonical_name(std::string_view hf_name, std::string_view architecture) {
  return translate(hf_name, true, architecture);
}

std::optional<std::string> canonical_to_hf_name(std::string_view canonical, std::string_view architecture) {
  return translate(canonical, false, architecture);
}

}  // namespace lmpack
