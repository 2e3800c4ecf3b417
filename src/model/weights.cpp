// build_weights: float views of a checkpoint for the fp32 forward passes.
// Aligned F32 tensors are used in place (zero copy, pages come in on first
// use); everything else is decoded with decode_to_f32, in parallel over rows,
// into buffers the ModelWeights owns.
#include "model/weights.h"

#include <cstring>

#include "core/error.h"
#include "core/parallel.h"
#include "formats/decode.h"
#include "kernels/ops.h"
#include "model/loaders.h"

namespace lmpack {
namespace {

const float* float_view(const Checkpoint& c, const TensorInfo& t, ModelWeights& w) {
  const bool aligned = reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0;
  if (t.dtype == DType::F32 && aligned) return reinterpret_cast<const float*>(t.data);
  const DTypeTraits& traits = dtype_traits(t.dtype);
  if (t.dtype != DType::F32 && !traits.decodable_to_f32)
    throw Error(c.path, cat("tensor ", t.name, " has type ", traits.name, ", which cannot be decoded to f32"));
  const int64_t n = t.n_elements();
  w.owned.emplace_back(static_cast<size_t>(n));
  float* out = w.owned.back().data();
  if (t.dtype == DType::F32) {
    std::memcpy(out, t.data, static_cast<size_t>(n) * sizeof(float));
    return out;
  }
  // Rows hold whole blocks (validate_checkpoint checked), so rows decode apart.
  const int64_t cols = t.cols(), rows = t.rows();
  const size_t row_bytes = dtype_bytes(t.dtype, cols);
  parallel_for(rows, [&](int64_t r) {
    decode_to_f32(out + r * cols, t.data + static_cast<size_t>(r) * row_bytes, t.dtype, cols);
  });
  return out;
}

}  // namespace

std::shared_ptr<const ModelWeights> build_weights(const Checkpoint& c) {
  validate_checkpoint(c);
  auto w = std::make_shared<ModelWeights>();
  w->config = c.config;
  w->keep_alive = c.keep_alive;
  auto get = [&](const std::string& name) { return float_view(c, c.tensor(name), *w); };
  auto get_optional = [&](const std::string& name) -> const float* {
    const TensorInfo* t = c.find(name);
    return t == nullptr ? nullptr : float_view(c, *t, *w);
  };

  const ModelConfig& cfg = c.config;
  w->token_embd = get("token_embd.weight");
  w->output_norm = get("output_norm.weight");
  w->output = cfg.tied_embeddings ? w->token_embd : get("output.weight");
  for (int64_t l = 0; l < cfg.n_layers; ++l) {
    const std::string p = cat("blk.", l, ".");
    LayerWeights lw{};
    lw.attn_norm = get(p + "attn_norm.weight");
    lw.wq = get(p + "attn_q.weight");
    lw.wk = get(p + "attn_k.weight");
    lw.wv = get(p + "attn_v.weight");
    lw.bq = get_optional(p + "attn_q.bias");
    lw.bk = get_optional(p + "attn_k.bias");
    lw.bv = get_optional(p + "attn_v.bias");
    lw.wo = get(p + "attn_output.weight");
    lw.ffn_norm = get(p + "ffn_norm.weight");
    lw.w_gate = get(p + "ffn_gate.weight");
    lw.w_up = get(p + "ffn_up.weight");
    lw.w_down = get(p + "ffn_down.weight");
    w->layers.push_back(lw);
  }

  // RoPE frequencies. A GGUF rope_freqs.weight is llama.cpp's spelling of the
  // llama3 scaling, so when it is present the config's scaling is not applied
  // a second time.
  const int64_t half = cfg.head_dim / 2;
  w->rope_inv_freq.resize(static_cast<size_t>(half));
  rope_inv_freq(w->rope_inv_freq.data(), cfg.head_dim, cfg.rope_theta);
  if (const float* divisors = get_optional("rope_freqs.weight")) {
    for (int64_t j = 0; j < half; ++j) {
      if (!(divisors[j] > 0.0f))
        throw Error(c.path, cat("rope_freqs.weight[", j, "] is ", divisors[j], ", expected a positive factor"));
      w->rope_inv_freq[j] /= divisors[j];
    }
  } else if (cfg.rope_scaling.type == RopeScaling::Type::kLlama3) {
    const RopeScaling& s = cfg.rope_scaling;
    if (!(s.factor > 0.0f) || !(s.high_freq_factor > s.low_freq_factor) || !(s.low_freq_factor > 0.0f) ||
        s.original_max_position <= 0)
      throw Error(c.path, cat("llama3 rope scaling needs factor > 0 and high_freq_factor > low_freq_factor > 0, "
                              "got factor ", s.factor, ", low_freq_factor ", s.low_freq_factor,
                              ", high_freq_factor ", s.high_freq_factor, ", original_max_position ",
                              s.original_max_position));
    rope_scale_llama3(w->rope_inv_freq.data(), half, s.factor, s.low_freq_factor, s.high_freq_factor,
                      s.original_max_position);
  }
  return w;
}

}  // namespace lmpack
