// ReferenceForward: the llama2.c run.c forward pass, one token at a time,
// plain scalar loops, single-threaded. It is the oracle the fast path is
// tested against, so it stays short and reads top to bottom.
//
// Per token at position pos, for each layer l:
//   xb = rmsnorm(x) * attn_norm
//   q = wq xb (+bq), k = wk xb (+bk), v = wv xb (+bv)
//   (Qwen3) every head of q and k = rmsnorm(head) * q_norm / k_norm
//   rotate adjacent pairs (2j, 2j+1) of every head of q and k by pos * inv_freq[j]
//   for each query head h: kv head = h / (n_heads / n_kv_heads);
//     att_t = softmax_t(q_h . k_t / sqrt(head_dim)), t = first..pos; xb2_h = sum_t att_t v_t
//     (first = 0, or pos - window + 1 in a sliding-window layer)
//   x += wo xb2                       (Gemma 2: x += rmsnorm(wo xb2) * post_attention_norm)
//   xb = rmsnorm(x) * ffn_norm;  x += w_down(act(w_gate xb) * (w_up xb))   act: silu, or tanh GELU
//                                     (Gemma 2: the FFN output through post_ffw_norm likewise)
// logits = output · rmsnorm(x) * output_norm   (Gemma 2: x starts as embedding · sqrt(dim);
//                                                scores and logits soft-capped, c·tanh(s/c))
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/error.h"
#include "kernels/matmul.h"
#include "kernels/moe_route.h"
#include "kernels/ops.h"
#include "runtime/block_forward.h"
#include "runtime/forward.h"
#include "runtime/kv_cache.h"

namespace lmpack {
namespace {

class ReferenceForward final : public ForwardPass {
 public:
  ReferenceForward(std::shared_ptr<const ModelWeights> w, int64_t max_context)
      : ForwardPass(std::move(w)),
        max_context_(max_context),
        cache_(config().n_layers, max_context, config().kv_dim()) {
    const ModelConfig& c = config();
    x_.resize(c.dim);
    xb_.resize(c.dim);
    xb2_.resize(std::max(c.q_dim(), c.dim));  // the attention's output, then an FFN's
    q_.resize(c.q_dim());
    hb_.resize(c.ffn_width());
    hb2_.resize(c.ffn_width());
    if (c.is_moe()) {
      route_.resize(c.n_experts);
      chosen_.resize(c.n_experts_used);
      weights_of_chosen_.resize(c.n_experts_used);
      moe_out_.resize(c.dim);
    }
    att_.resize(max_context_);
    final_.resize(c.vocab_size);
    rope_ = make_rope_tables(*weights_, max_context_);
  }

  void forward(const int32_t* tokens, int64_t n, float* logits, bool last_only) override {
    const ModelConfig& c = config();
    if (pos_ + n > max_context_)
      throw Error("context", cat("position ", pos_ + n, " exceeds the context of ", max_context_, " tokens"));
    for (int64_t i = 0; i < n; ++i)
      if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
        throw Error("tokens", cat("token id ", tokens[i], " at index ", i, " is outside the vocabulary [0, ",
                                  c.vocab_size, ")"));
    for (int64_t i = 0; i < n; ++i) {
      step(tokens[i]);
      if (!last_only) std::copy(final_.begin(), final_.end(), logits + i * c.vocab_size);
    }
    if (last_only && n > 0) std::copy(final_.begin(), final_.end(), logits);
  }

  void reset() override { pos_ = 0; }
  int64_t pos() const override { return pos_; }
  int64_t max_context() const override { return max_context_; }

 private:
  // out [dim] = down · act(gate · xn) ⊙ (up · xn), hidden wide; xn [dim].
  void ffn_reference(float* out, const float* xn, const float* w_gate, const float* w_up, const float* w_down,
                     int64_t hidden) {
    const ModelConfig& c = config();
    matmul_xwt_reference(hb_.data(), xn, w_gate, 1, hidden, c.dim);
    matmul_xwt_reference(hb2_.data(), xn, w_up, 1, hidden, c.dim);
    for (int64_t i = 0; i < hidden; ++i) {
      const float g = hb_[i];
      if (c.ffn_activation == FfnActivation::kGeluTanh) {
        const float inner = 0.7978845608028654f * (g + 0.044715f * g * g * g);  // sqrt(2/π)(x + 0.044715x³)
        hb_[i] = 0.5f * g * (1.0f + std::tanh(inner)) * hb2_[i];
      } else {
        hb_[i] = g / (1.0f + std::exp(-g)) * hb2_[i];
      }
    }
    matmul_xwt_reference(out, hb_.data(), w_down, 1, c.dim, hidden);
  }

  // One token at position pos_; leaves its logits in final_.
  void step(int32_t token) {
    const ReferenceWeights& w = weights_->reference();
    const ModelConfig& c = config();
    const int64_t dim = c.dim, hd = c.head_dim, kv_dim = c.kv_dim(), q_dim = c.q_dim();
    const int64_t group = c.n_heads / c.n_kv_heads;
    const int64_t pos = pos_;
    const int64_t half = rope_.half;

    // x: [dim] the residual stream
    const float* row = w.token_embd + static_cast<int64_t>(token) * dim;
    std::copy(row, row + dim, x_.begin());
    if (c.embedding_scale > 0.0f)
      for (int64_t i = 0; i < dim; ++i) x_[i] *= c.embedding_scale;

    for (int64_t l = 0; l < c.n_layers; ++l) {
      const ReferenceLayerWeights& lw = w.layers[l];
      float* k_cache = cache_.keys(l);    // [max_context, kv_dim]
      float* v_cache = cache_.values(l);  // [max_context, kv_dim]
      float* k = k_cache + pos * kv_dim;                                // [kv_dim] this position
      float* v = v_cache + pos * kv_dim;                                // [kv_dim] this position

      // xb: [dim] = rmsnorm(x)
      rmsnorm_reference(xb_.data(), x_.data(), lw.attn_norm, dim, c.rms_eps);
      // q: [q_dim], k, v: [kv_dim]
      matmul_xwt_reference(q_.data(), xb_.data(), lw.wq, 1, q_dim, dim);
      matmul_xwt_reference(k, xb_.data(), lw.wk, 1, kv_dim, dim);
      matmul_xwt_reference(v, xb_.data(), lw.wv, 1, kv_dim, dim);
      if (lw.bq != nullptr)
        for (int64_t i = 0; i < q_dim; ++i) q_[i] += lw.bq[i];
      if (lw.bk != nullptr)
        for (int64_t i = 0; i < kv_dim; ++i) k[i] += lw.bk[i];
      if (lw.bv != nullptr)
        for (int64_t i = 0; i < kv_dim; ++i) v[i] += lw.bv[i];
      if (lw.q_norm != nullptr) rmsnorm_heads_reference(q_.data(), lw.q_norm, c.n_heads, hd, c.rms_eps);
      if (lw.k_norm != nullptr) rmsnorm_heads_reference(k, lw.k_norm, c.n_kv_heads, hd, c.rms_eps);
      const float* cos = rope_.cos_of(c, l) + pos * half;  // [half] (Gemma 3: the windowed layers' own)
      const float* sin = rope_.sin_of(c, l) + pos * half;  // [half]
      if (c.layer_has_rope(l)) {  // not SmolLM3's NoPE layers
        rope_reference(q_.data(), cos, sin, c.n_heads, hd, c.rope_dims());
        rope_reference(k, cos, sin, c.n_kv_heads, hd, c.rope_dims());
      }

      // xb2: [q_dim] attention output, head by head
      const float scale = c.attention_score_scale();
      const int64_t window = c.attention_window(l);
      const int64_t first = window > 0 && pos >= window ? pos - window + 1 : 0;
      for (int64_t h = 0; h < c.n_heads; ++h) {
        const float* qh = q_.data() + h * hd;  // [hd]
        const int64_t kvh = h / group;
        // att: [pos + 1 - first]
        for (int64_t t = first; t <= pos; ++t)
          att_[t - first] = dot_reference(qh, k_cache + t * kv_dim + kvh * hd, hd) * scale;
        if (c.attn_softcap > 0.0f) softcap_inplace(att_.data(), pos + 1 - first, c.attn_softcap);
        softmax_reference(att_.data(), pos + 1 - first);
        float* out = xb2_.data() + h * hd;  // [hd]
        for (int64_t i = 0; i < hd; ++i) out[i] = 0.0f;
        for (int64_t t = first; t <= pos; ++t) {
          const float* vt = v_cache + t * kv_dim + kvh * hd;  // [hd]
          for (int64_t i = 0; i < hd; ++i) out[i] += att_[t - first] * vt[i];
        }
      }
      // x += wo · xb2
      matmul_xwt_reference(xb_.data(), xb2_.data(), lw.wo, 1, dim, q_dim);
      if (lw.post_attn_norm != nullptr) rmsnorm_reference(xb_.data(), xb_.data(), lw.post_attn_norm, dim, c.rms_eps);
      for (int64_t i = 0; i < dim; ++i) x_[i] += xb_[i];

      // FFN: xb = rmsnorm(x); hb, hb2: [hidden]
      rmsnorm_reference(xb_.data(), x_.data(), lw.ffn_norm, dim, c.rms_eps);
      if (lw.router != nullptr) {  // mixture of experts: the chosen experts' outputs, weighted
        matmul_xwt_reference(route_.data(), xb_.data(), lw.router, 1, c.n_experts, dim);
        moe_route(route_.data(), c.n_experts, c.n_experts_used, c.norm_topk_prob, chosen_.data(),
                  weights_of_chosen_.data());
        std::fill(moe_out_.begin(), moe_out_.end(), 0.0f);
        for (int64_t j = 0; j < c.n_experts_used; ++j) {
          const ReferenceLayerWeights::Expert& e = lw.experts[static_cast<size_t>(chosen_[j])];
          ffn_reference(xb2_.data(), xb_.data(), e.w_gate, e.w_up, e.w_down, c.expert_hidden_dim);
          for (int64_t i = 0; i < dim; ++i) moe_out_[i] += weights_of_chosen_[j] * xb2_[i];
        }
        std::copy(moe_out_.begin(), moe_out_.end(), xb_.begin());
      } else {
        ffn_reference(xb2_.data(), xb_.data(), lw.w_gate, lw.w_up, lw.w_down, c.hidden_dim);
        std::copy(xb2_.begin(), xb2_.begin() + dim, xb_.begin());
      }
      if (lw.post_ffn_norm != nullptr) rmsnorm_reference(xb_.data(), xb_.data(), lw.post_ffn_norm, dim, c.rms_eps);
      for (int64_t i = 0; i < dim; ++i) x_[i] += xb_[i];
    }

    // final_: [vocab] logits
    rmsnorm_reference(x_.data(), x_.data(), w.output_norm, dim, c.rms_eps);
    matmul_xwt_reference(final_.data(), x_.data(), w.output, 1, c.vocab_size, dim);
    if (c.final_softcap > 0.0f) softcap_inplace(final_.data(), c.vocab_size, c.final_softcap);
    ++pos_;
  }

  int64_t max_context_;
  int64_t pos_ = 0;
  std::vector<float> x_, xb_, xb2_, q_, hb_, hb2_, att_, final_;  // shapes in step()
  std::vector<float> route_, weights_of_chosen_, moe_out_;       // [n_experts], [n_experts_used], [dim]
  std::vector<int32_t> chosen_;                                  // [n_experts_used]
  KvCache cache_;                               // [n_layers, max_context, kv_dim]
  RopeTables rope_;                             // [max_context, head_dim/2] per RoPE
};

}  // namespace

std::unique_ptr<ForwardPass> make_reference_forward(std::shared_ptr<const ModelWeights> weights,
                                                    int64_t max_context) {
  LMPACK_CHECK(weights != nullptr);
  LMPACK_CHECK(static_cast<int64_t>(weights->rope_inv_freq.size()) == weights->config.rope_dims() / 2,
               "ModelWeights without RoPE frequencies (use build_weights)");
  if (max_context <= 0) max_context = weights->config.context_length;
  weights->reference();  // decode the fp32 copies now, not inside the first step
  return std::make_unique<ReferenceForward>(std::move(weights), max_context);
}

}  // namespace lmpack
