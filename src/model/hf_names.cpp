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
