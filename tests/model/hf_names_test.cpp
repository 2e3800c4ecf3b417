#include "model/hf_names.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace lmpack {
namespace {

TEST(HfNames, MapsBothWays) {
  const std::pair<const char*, const char*> pairs[] = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
      {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"},
      {"model.layers.12.self_attn.q_proj.weight", "blk.12.attn_q.weight"},
      {"model.layers.3.self_attn.k_proj.weight", "blk.3.attn_k.weight"},
      {"model.layers.3.self_attn.v_proj.weight", "blk.3.attn_v.weight"},
      {"model.layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight"},
      {"model.layers.7.self_attn.q_proj.bias", "blk.7.attn_q.bias"},
      {"model.layers.7.self_attn.k_proj.bias", "blk.7.attn_k.bias"},
      {"model.layers.7.self_attn.v_proj.bias", "blk.7.attn_v.bias"},
      {"model.layers.4.post_attention_layernorm.weight", "blk.4.ffn_norm.weight"},
      {"model.layers.4.mlp.gate_proj.weight", "blk.4.ffn_gate.weight"},
      {"model.layers.4.mlp.up_proj.weight", "blk.4.ffn_up.weight"},
      {"model.layers.4.mlp.down_proj.weight", "blk.4.ffn_down.weight"},
  };
  for (const auto& [hf, canonical] : pairs) {
    EXPECT_EQ(hf_to_canonical_name(hf), std::string(canonical)) << hf;
    EXPECT_EQ(canonical_to_hf_name(canonical), std::string(hf)) << canonical;
  }
}

TEST(HfNames, UnknownNamesMapToNothing) {
  for (const char* n : {"model.layers.0.self_attn.rotary_emb.inv_freq", "model.layers.x.mlp.up_proj.weight",
                        "model.layers.01.mlp.up_proj.weight", "model.layers..mlp.up_proj.weight",
                        "model.layers.-1.mlp.up_proj.weight", "model.layers.0.self_attn.o_proj.bias",
                        "model.embed_tokens", "blk.0.attn_q.weight", ""})
    EXPECT_FALSE(hf_to_canonical_name(n).has_value()) << n;
  for (const char* n : {"rope_freqs.weight", "blk.0.attn_sinks.weight", "model.norm.weight", "blk.a.attn_q.weight"})
    EXPECT_FALSE(canonical_to_hf_name(n).has_value()) << n;
}

}  // namespace
}  // namespace lmpack
