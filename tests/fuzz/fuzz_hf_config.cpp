// Harness over config.json text: parse_hf_config, and for every config it
// accepts, hf_config_to_json must write a file that reads back to the same
// ModelConfig.
#include <string>

#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "model/hf_config.h"

namespace lmpack::fuzz {
namespace {

bool same(const ModelConfig& a, const ModelConfig& b) {
  const RopeScaling &x = a.rope_scaling, &y = b.rope_scaling;
  return a.architecture == b.architecture && a.dim == b.dim && a.hidden_dim == b.hidden_dim &&
         a.n_layers == b.n_layers && a.n_heads == b.n_heads && a.n_kv_heads == b.n_kv_heads &&
         a.head_dim == b.head_dim && a.vocab_size == b.vocab_size && a.context_length == b.context_length &&
         a.rms_eps == b.rms_eps && a.rope_theta == b.rope_theta && x.type == y.type && x.factor == y.factor &&
         x.low_freq_factor == y.low_freq_factor && x.high_freq_factor == y.high_freq_factor &&
         x.original_max_position == y.original_max_position && a.tied_embeddings == b.tied_embeddings &&
         a.attn_qkv_bias == b.attn_qkv_bias;
}

}  // namespace

void fuzz_hf_config(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  run_checked([&] {
    const ModelConfig c = parse_hf_config(text, kWhere);
    const std::string written = hf_config_to_json(c);
    const ModelConfig back = parse_hf_config(written, kWhere);
    LMPACK_FUZZ_CHECK(same(c, back), "config.json round trip changed the config: ", written);
  });
}

}  // namespace lmpack::fuzz
