// Hugging Face <-> canonical tensor names, and the q/k row permutation
// between HF's rotate-half RoPE layout and lmpack's adjacent-pair layout.
//
// The name table (hf_names.cpp) is the one place the mapping is written down;
// the HF loader reads it one way, the HF writer the other.
//
// Row permutation, per head of head_dim rows (half = head_dim / 2):
//   adjacent (canonical) row 2*i + c  <->  HF row c*half + i,   i < half, c in {0, 1}
// This is transformers' convert_llama_weights_to_hf permute,
// w.reshape(heads, half, 2, in).transpose(0, 2, 1, 3), and its inverse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lmpack {

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight"; nullopt
// for a name outside the table (rotary_emb.inv_freq buffers, unknown extras).
// `architecture` (lmpack's name) picks Gemma 2's norms, whose
// post_attention_layernorm is the attention's post-norm (post_attention_norm)
// and pre_feedforward_layernorm the FFN's input norm (ffn_norm).
std::optional<std::string> hf_to_canonical_name(std::string_view hf_name, std::string_view architecture = "");
// Phi-3 (hf_fused_projections): qkv_proj <-> "blk.N.attn_qkv.weight" and
// gate_up_proj <-> "blk.N.ffn_gate_up.weight", fused canonical names that
// model/fused_projections.h splits and joins; attn_q/k/v and ffn_gate/up
// have no HF name of their own there.
// The inverse; nullopt for a canonical name HF Llama has no place for.
std::optional<std::string> canonical_to_hf_name(std::string_view canonical, std::string_view architecture = "");

}  // namespace lmpack
