// build_weights: views of a checkpoint's tensors for the forward passes.
// Matrices stay in the memory mapping whenever qmatmul_xwt can use them in
// place (pages come in on first use); vectors (norms, biases) are used in
// place when they are aligned F32 and decoded otherwise. The fp32 copies the
// reference pass needs are made by ModelWeights::reference(), only when asked.
#include "runtime/weights.h"

#include <cstring>

#include "core/error.h"
#include "core/parallel.h"
#include "formats/decode.h"
#include "formats/format_sizes.h"
#include "kernels/ops.h"
#include "model/loaders.h"
#include "model/tensor_names.h"

namespace lmpack {
namespace {

bool is_aligned_f32(DType type, const void* data) {
  return type == DType::F32 && reinterpret_cast<uintptr_t>(data) % alignof(float) == 0;
}

// Decodes rows x cols stored as `type` into a new owned buffer.
const float* decode_owned(std::vector<std::vector<float>>& owned, DType type, const void* data, int64_t rows,
                          int64_t cols) {
  owned.emplace_back(static_cast<size_t>(rows * cols));
  float* out = owned.back().data();
  if (type == DType::F32) {
    std::memcpy(out, data, static_cast<size_t>(rows * cols) * sizeof(float));
    return out;
  }
  // Rows hold whole blocks (validate_checkpoint checked), so rows decode apart.
  const size_t row_bytes = dtype_bytes(type, cols);
  const auto* bytes = static_cast<const uint8_t*>(data);
  auto one = [&](int64_t r) { decode_to_f32(out + r * cols, bytes + static_cast<size_t>(r) * row_bytes, type, cols); };
  if (rows > 1 && rows * cols >= 65536) {
    parallel_for(rows, one);
  } else {
    for (int64_t r = 0; r < rows; ++r) one(r);
  }
  return out;
}

void require_decodable(const Checkpoint& c, const TensorInfo& t) {
  if (t.dtype != DType::F32 && !decodable_to_f32(t.dtype))
    throw Error(c.path, cat("tensor ", t.name, " has type ", dtype_name(t.dtype), ", which cannot be decoded to f32"));
}

// A vector (norm, bias) or anything the reference needs as fp32.
const float* float_view(const Checkpoint& c, const TensorInfo& t, ModelWeights& w) {
  if (is_aligned_f32(t.dtype, t.data)) return reinterpret_cast<const float*>(t.data);
  require_decodable(c, t);
  return decode_owned(w.owned, t.dtype, t.data, t.rows(), t.cols());
}

// A matrix for qmatmul_xwt: in place when its type has a dot product,
// decoded to an owned F32 copy otherwise.
WeightMatrix matrix_view(const Checkpoint& c, const TensorInfo& t, ModelWeights& w) {
  if (is_aligned_f32(t.dtype, t.data) || (t.dtype != DType::F32 && qmatmul_supported(t.dtype)))
    return WeightMatrix{t.dtype, t.data, t.rows(), t.cols()};
  require_decodable(c, t);
  return WeightMatrix{DType::F32, decode_owned(w.owned, t.dtype, t.data, t.rows(), t.cols()), t.rows(), t.cols()};
}

// The token embedding table: rows are decoded at lookup, so any decodable
// type stays in place (unless it also serves as the output matrix).
WeightMatrix embedding_view(const Checkpoint& c, const TensorInfo& t, ModelWeights& w, bool tied) {
  if (tied) return matrix_view(c, t, w);
  if (t.dtype == DType::F32 && !is_aligned_f32(t.dtype, t.data)) return matrix_view(c, t, w);
  require_decodable(c, t);
  return WeightMatrix{t.dtype, t.data, t.rows(), t.cols()};
}

// The fp32 view of a matrix for the reference pass.
const float* reference_matrix(const WeightMatrix& m, ReferenceWeights& r) {
  if (m.type == DType::F32) return static_cast<const float*>(m.data);
  return decode_owned(r.owned, m.type, m.data, m.rows, m.cols);
}

}  // namespace

void ModelWeights::embed(float* x, int32_t token) const {
  const int64_t dim = token_embd.cols;
  if (token_embd.type == DType::F32) {
    const float* row = static_cast<const float*>(token_embd.data) + static_cast<int64_t>(token) * dim;
    std::memcpy(x, row, static_cast<size_t>(dim) * sizeof(float));
  } else {
    decode_to_f32(x, token_embd.row(token), token_embd.type, dim);
  }
}

size_t ModelWeights::owned_bytes() const {
  size_t bytes = 0;
  for (const auto& v : owned) bytes += v.size() * sizeof(float);
  if (reference_ != nullptr)
    for (const auto& v : reference_->owned) bytes += v.size() * sizeof(float);
  return bytes;
}

const ReferenceWeights& ModelWeights::reference() const {
  std::call_once(reference_once_, [&] {
    auto r = std::make_unique<ReferenceWeights>();
    r->token_embd = reference_matrix(token_embd, *r);
    r->output_norm = output_norm;
    r->output = output == token_embd ? r->token_embd : reference_matrix(output, *r);
    for (const LayerWeights& lw : layers) {
      ReferenceLayerWeights rl{};
      rl.attn_norm = lw.attn_norm;
      rl.wq = reference_matrix(lw.wq, *r);
      rl.wk = reference_matrix(lw.wk, *r);
      rl.wv = reference_matrix(lw.wv, *r);
      rl.bq = lw.bq;
      rl.bk = lw.bk;
      rl.bv = lw.bv;
      rl.q_norm = lw.q_norm;
      rl.k_norm = lw.k_norm;
      rl.wo = reference_matrix(lw.wo, *r);
      rl.post_attn_norm = lw.post_attn_norm;
      rl.post_ffn_norm = lw.post_ffn_norm;
      rl.ffn_norm = lw.ffn_norm;
      if (lw.experts.empty()) {
        rl.w_gate = reference_matrix(lw.w_gate, *r);
        rl.w_up = reference_matrix(lw.w_up, *r);
        rl.w_down = reference_matrix(lw.w_down, *r);
      }
      rl.router = lw.router;
      for (const ExpertWeights& e : lw.experts)
        rl.experts.push_back({reference_matrix(e.w_gate, *r), reference_matrix(e.w_up, *r), reference_matrix(e.w_down, *r)});
      r->layers.push_back(rl);
    }
    reference_ = std::move(r);
  });
  return *reference_;
}

std::shared_ptr<const ModelWeights> build_weights(const Checkpoint& c) {
  validate_checkpoint(c);
  auto w = std::make_shared<ModelWeights>();
  w->config = c.config;
  w->keep_alive = c.keep_alive;
  w->source = c.path;
  w->stored = c.tensors;
  auto vec = [&](const std::string& name) { return float_view(c, c.tensor(name), *w); };
  auto vec_optional = [&](const std::string& name) -> const float* {
    const TensorInfo* t = c.find(name);
    return t == nullptr ? nullptr : float_view(c, *t, *w);
  };
  auto mat = [&](const std::string& name) { return matrix_view(c, c.tensor(name), *w); };

  const ModelConfig& cfg = c.config;
  w->token_embd = embedding_view(c, c.tensor("token_embd.weight"), *w, cfg.tied_embeddings);
  w->output_norm = vec("output_norm.weight");
  w->output = cfg.tied_embeddings ? w->token_embd : mat("output.weight");
  for (int64_t l = 0; l < cfg.n_layers; ++l) {
    const std::string p = cat("blk.", l, ".");
    LayerWeights lw{};
    lw.attn_norm = vec(p + "attn_norm.weight");
    lw.wq = mat(p + "attn_q.weight");
    lw.wk = mat(p + "attn_k.weight");
    lw.wv = mat(p + "attn_v.weight");
    lw.bq = vec_optional(p + "attn_q.bias");
    lw.bk = vec_optional(p + "attn_k.bias");
    lw.bv = vec_optional(p + "attn_v.bias");
    lw.q_norm = vec_optional(p + "attn_q_norm.weight");
    lw.k_norm = vec_optional(p + "attn_k_norm.weight");
    lw.wo = mat(p + "attn_output.weight");
    lw.post_attn_norm = vec_optional(p + "post_attention_norm.weight");
    lw.post_ffn_norm = vec_optional(p + "post_ffw_norm.weight");
    lw.ffn_norm = vec(p + "ffn_norm.weight");
    if (cfg.is_moe()) {
      lw.router = vec(router_tensor_name(l));
      for (int64_t e = 0; e < cfg.n_experts; ++e)
        lw.experts.push_back({mat(expert_tensor_name(l, "ffn_gate_exps", e)), mat(expert_tensor_name(l, "ffn_up_exps", e)),
                              mat(expert_tensor_name(l, "ffn_down_exps", e))});
    } else {
      lw.w_gate = mat(p + "ffn_gate.weight");
      lw.w_up = mat(p + "ffn_up.weight");
      lw.w_down = mat(p + "ffn_down.weight");
    }
    w->layers.push_back(lw);
  }

  // RoPE frequencies. A GGUF rope_freqs.weight is llama.cpp's spelling of the
  // llama3 scaling, so when it is present the config's scaling is not applied
  // a second time.
  const int64_t half = cfg.rope_dims() / 2;
  w->rope_inv_freq.resize(static_cast<size_t>(half));
  rope_inv_freq(w->rope_inv_freq.data(), cfg.rope_dims(), cfg.rope_theta);
  if (const float* divisors = vec_optional("rope_freqs.weight")) {
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
  } else if (cfg.rope_scaling.type == RopeScaling::Type::kLongRope) {  // factors checked by validate
    const RopeScaling& s = cfg.rope_scaling;
    w->rope_inv_freq_long = w->rope_inv_freq;
    for (int64_t j = 0; j < half; ++j) {
      w->rope_inv_freq[j] /= s.short_factors[j];
      w->rope_inv_freq_long[j] /= s.long_factors[j];
    }
    w->rope_long_above = s.original_max_position;
    w->rope_magnitude = s.attention_factor;
  } else if (cfg.rope_scaling.type == RopeScaling::Type::kLinear) {
    if (!(cfg.rope_scaling.factor > 0.0f))
      throw Error(c.path, cat("linear rope scaling needs factor > 0, got ", cfg.rope_scaling.factor));
    for (float& f : w->rope_inv_freq) f /= cfg.rope_scaling.factor;
  }
  if (cfg.rope_theta_local > 0.0f) {
    w->rope_inv_freq_local.resize(static_cast<size_t>(half));
    rope_inv_freq(w->rope_inv_freq_local.data(), cfg.rope_dims(), cfg.rope_theta_local);
  }
  return w;
}

}  // namespace lmpack
