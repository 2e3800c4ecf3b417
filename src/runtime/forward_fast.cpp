// Forward: the fast path. A call's tokens go through the layers as one
// [n, dim] fp32 activation matrix (in chunks of kChunk rows to bound memory):
// every linear layer is one qmatmul_xwt over the weight as stored (F32:
// oneDNN sgemm; F16/BF16/GGUF block types: format dot products or decoded
// tiles + sgemm, formats/qmatmul.h), each input quantized once for the
// matrices that share it (q/k/v, gate/up); token embeddings are decoded row
// by row; the residual adds ride on the GEMM's accumulate; attention runs in
// parallel over (query head, block of kQueryBlock queries) against the KV
// cache [layer][pos][kv_dim], into which K and V are written directly by
// their GEMMs. Generation steps (n = 1) take the same code path.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "formats/qmatmul.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/moe_route.h"
#include "model/tensor_names.h"
#include "kernels/ops.h"
#include "runtime/block_forward.h"
#include "runtime/forward.h"
#include "runtime/kv_cache.h"

namespace lmpack {
namespace {

constexpr int64_t kChunk = 256;       // rows per pass through the layers
constexpr int64_t kQueryBlock = 16;   // queries per attention task
constexpr int64_t kParallelAttentionWork = int64_t{1} << 16;  // multiply-adds (x2) worth a parallel region

// fn(i) for rows i in [0, m): across the team when there is enough work.
template <typename Fn>
void for_rows(int64_t m, int64_t width, Fn&& fn) {
  if (m * width >= 65536 && m > 1) {
    parallel_for(m, fn);
  } else {
    for (int64_t i = 0; i < m; ++i) fn(i);
  }
}

class FastForward final : public ForwardPass {
 public:
  FastForward(std::shared_ptr<const ModelWeights> w, int64_t max_context)
      : ForwardPass(std::move(w)),
        max_context_(max_context),
        cache_(config().n_layers, max_context, config().kv_dim()) {
    const ModelConfig& c = config();
    const int64_t rows = std::min(kChunk, max_context_);
    x_.resize(rows * c.dim);
    xb_.resize(rows * c.dim);
    q_.resize(rows * c.q_dim());
    att_.resize(rows * c.q_dim());
    hb_.resize(rows * c.ffn_width());
    hb2_.resize(rows * c.ffn_width());
    rope_ = make_rope_tables(*weights_, max_context_);
    static const char* const kLinear[kLinearPerLayer] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                                          "ffn_gate", "ffn_up", "ffn_down"};
    for (int64_t l = 0; l < c.n_layers; ++l)
      for (const char* name : kLinear) linear_names_.push_back(cat("blk.", l, ".", name, ".weight"));
    output_name_ = c.tied_embeddings ? "token_embd.weight" : "output.weight";
  }

  void forward(const int32_t* tokens, int64_t n, float* logits, bool last_only) override {
    const ModelConfig& c = config();
    if (pos_ + n > max_context_)
      throw Error("context", cat("position ", pos_ + n, " exceeds the context of ", max_context_, " tokens"));
    for (int64_t i = 0; i < n; ++i)
      if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
        throw Error("tokens", cat("token id ", tokens[i], " at index ", i, " is outside the vocabulary [0, ",
                                  c.vocab_size, ")"));
    const size_t scratch = static_cast<size_t>(omp_get_max_threads()) * max_context_;
    if (scratch_.size() < scratch) scratch_.resize(scratch);
    for (int64_t s = 0; s < n; s += kChunk) {
      const int64_t m = std::min(kChunk, n - s);
      float* out = nullptr;
      if (!last_only) out = logits + s * c.vocab_size;
      else if (s + m == n) out = logits;
      run_chunk(tokens + s, m, out, last_only);
    }
  }

  void reset() override { pos_ = 0; }
  int64_t pos() const override { return pos_; }
  int64_t max_context() const override { return max_context_; }

 private:
  static constexpr int kLinearPerLayer = 7;

  // Reports x [m, cols] to the observer as the input of layer l's matrices
  // first .. first+count-1 (indices into kLinear).
  void observe(int64_t l, int first, int count, const float* x, int64_t m, int64_t cols) {
    for (int i = first; i < first + count; ++i)
      observer_->observe(linear_names_[l * kLinearPerLayer + i], x, m, cols);
  }

  // m tokens at positions pos_ .. pos_+m-1; logits of every row (or only of
  // the last one when last_only) into out [m or 1, vocab] unless out is null.
  void run_chunk(const int32_t* tokens, int64_t m, float* out, bool last_only) {
    const ModelWeights& w = *weights_;
    const ModelConfig& c = config();
    const int64_t dim = c.dim, hd = c.head_dim, q_dim = c.q_dim(), kv_dim = c.kv_dim();
    const int64_t hidden = c.hidden_dim, half = rope_.half, pos0 = pos_;
    const int64_t group = c.n_heads / c.n_kv_heads;
    const float scale = c.attention_score_scale();
    const bool gelu = c.ffn_activation == FfnActivation::kGeluTanh;
    float* x = x_.data();      // [m, dim] residual stream
    float* xb = xb_.data();    // [m, dim] normed input of a block
    float* q = q_.data();      // [m, q_dim]
    float* att = att_.data();  // [m, q_dim] attention output
    float* hb = hb_.data();    // [m, hidden] gate, then silu(gate) * up
    float* hb2 = hb2_.data();  // [m, hidden] up

    for_rows(m, dim, [&](int64_t i) {
      w.embed(x + i * dim, tokens[i]);
      if (c.embedding_scale > 0.0f)
        for (int64_t j = 0; j < dim; ++j) x[i * dim + j] *= c.embedding_scale;
    });

    for (int64_t l = 0; l < c.n_layers; ++l) {
      const LayerWeights& lw = w.layers[l];
      float* kc = cache_.keys(l);    // [max_context, kv_dim]
      float* vc = cache_.values(l);  // [max_context, kv_dim]
      float* k = kc + pos0 * kv_dim;                                // [m, kv_dim] new rows
      float* v = vc + pos0 * kv_dim;                                // [m, kv_dim] new rows

      for_rows(m, dim, [&](int64_t i) { rmsnorm(xb + i * dim, x + i * dim, lw.attn_norm, dim, c.rms_eps); });
      xa_.set(xb, m, dim);
      if (observer_ != nullptr) observe(l, 0, 3, xb, m, dim);
      qmatmul_xwt(q, xa_, lw.wq);
      qmatmul_xwt(k, xa_, lw.wk);
      qmatmul_xwt(v, xa_, lw.wv);
      const float* layer_cos = rope_.cos_of(c, l);  // [max_context, half]
      const float* layer_sin = rope_.sin_of(c, l);
      for_rows(m, q_dim + 2 * kv_dim, [&](int64_t i) {
        if (lw.bq != nullptr) add_inplace(q + i * q_dim, lw.bq, q_dim);
        if (lw.bk != nullptr) add_inplace(k + i * kv_dim, lw.bk, kv_dim);
        if (lw.bv != nullptr) add_inplace(v + i * kv_dim, lw.bv, kv_dim);
        if (lw.q_norm != nullptr) rmsnorm_heads(q + i * q_dim, lw.q_norm, c.n_heads, hd, c.rms_eps);
        if (lw.k_norm != nullptr) rmsnorm_heads(k + i * kv_dim, lw.k_norm, c.n_kv_heads, hd, c.rms_eps);
        const float* cos = layer_cos + (pos0 + i) * half;  // [half]
        const float* sin = layer_sin + (pos0 + i) * half;  // [half]
        if (!c.layer_has_rope(l)) return;  // SmolLM3's NoPE layers
        rope(q + i * q_dim, cos, sin, c.n_heads, hd, c.rope_dims());
        rope(k + i * kv_dim, cos, sin, c.n_kv_heads, hd, c.rope_dims());
      });

      const int64_t window = c.attention_window(l);
      // Tasks (head h, query block b), heads fastest so that neighbouring
      // tasks share a KV head.
      const int64_t n_blocks = (m + kQueryBlock - 1) / kQueryBlock;
      auto attend = [&](int64_t task) {
        const int64_t h = task % c.n_heads, b = task / c.n_heads;
        const int64_t i0 = b * kQueryBlock, nq = std::min(kQueryBlock, m - i0);
        const int64_t kv_off = (h / group) * hd;
        float* scratch = scratch_.data() + static_cast<size_t>(omp_get_thread_num()) * max_context_;
        attention_causal(att + i0 * q_dim + h * hd, q + i0 * q_dim + h * hd, kc + kv_off, vc + kv_off, scratch,
                         nq, pos0 + i0, hd, q_dim, q_dim, kv_dim, scale, window, c.attn_softcap);
      };
      // A parallel region costs microseconds (far more on a loaded machine),
      // so a small model's generation step attends on the calling thread.
      const int64_t work = c.n_heads * m * (pos0 + m) * hd;
      if (work >= kParallelAttentionWork) {
        parallel_for(c.n_heads * n_blocks, attend);
      } else {
        for (int64_t task = 0; task < c.n_heads * n_blocks; ++task) attend(task);
      }
      xa_.set(att, m, q_dim);
      if (observer_ != nullptr) observe(l, 3, 1, att, m, q_dim);
      add_block_output(x, xb, lw.wo, lw.post_attn_norm, m);

      for_rows(m, dim, [&](int64_t i) { rmsnorm(xb + i * dim, x + i * dim, lw.ffn_norm, dim, c.rms_eps); });
      if (!lw.experts.empty()) {
        moe_ffn(l, lw, x, xb, m);
      } else {
        xa_.set(xb, m, dim);
        if (observer_ != nullptr) observe(l, 4, 2, xb, m, dim);
        qmatmul_xwt(hb, xa_, lw.w_gate);
        qmatmul_xwt(hb2, xa_, lw.w_up);
        for_rows(m, hidden, [&](int64_t i) { ffn_activation_mul(hb + i * hidden, hb2 + i * hidden, hidden, gelu); });
        xa_.set(hb, m, hidden);
        if (observer_ != nullptr) observe(l, 6, 1, hb, m, hidden);
        add_block_output(x, xb, lw.w_down, lw.post_ffn_norm, m);
      }
      if (block_observer_ != nullptr) block_observer_->observe(l, pos0, x, m, dim);
    }
    pos_ += m;

    if (out == nullptr) return;
    const int64_t first = last_only ? m - 1 : 0, rows = m - first;
    for_rows(rows, dim, [&](int64_t i) {
      rmsnorm(xb + i * dim, x + (first + i) * dim, w.output_norm, dim, c.rms_eps);
    });
    xa_.set(xb, rows, dim);
    if (observer_ != nullptr) observer_->observe(output_name_, xb, rows, dim);
    qmatmul_xwt(out, xa_, w.output);
    if (c.final_softcap > 0.0f)
      for_rows(rows, c.vocab_size, [&](int64_t i) { softcap_inplace(out + i * c.vocab_size, c.vocab_size, c.final_softcap); });
  }

  // x [m, dim] += the mixture of experts' output for the normed rows xb
  // [m, dim]: route every row (kernels/moe_route.h), then per expert gather
  // its rows, run its FFN over them as one batch and add each row's output
  // times its weight.
  void moe_ffn(int64_t l, const LayerWeights& lw, float* x, const float* xb, int64_t m) {
    const ModelConfig& c = config();
    const int64_t dim = c.dim, fe = c.expert_hidden_dim, n_exp = c.n_experts;
    const bool gelu = c.ffn_activation == FfnActivation::kGeluTanh;
    router_.resize(static_cast<size_t>(m * n_exp));
    matmul_xwt(router_.data(), xb, lw.router, m, n_exp, dim);
    moe_dispatch(router_.data(), m, n_exp, c.n_experts_used, c.norm_topk_prob, expert_rows_, expert_weights_);
    moe_out_.assign(static_cast<size_t>(m * dim), 0.0f);
    xg_.resize(static_cast<size_t>(m * dim));
    yg_.resize(static_cast<size_t>(m * dim));
    float* hb = hb_.data();    // [n_e, fe]
    float* hb2 = hb2_.data();  // [n_e, fe]
    for (int64_t e = 0; e < n_exp; ++e) {
      const std::vector<int64_t>& rows = expert_rows_[static_cast<size_t>(e)];
      const std::vector<float>& wts = expert_weights_[static_cast<size_t>(e)];
      const auto n_e = static_cast<int64_t>(rows.size());
      if (n_e == 0) continue;
      const ExpertWeights& ew = lw.experts[static_cast<size_t>(e)];
      for_rows(n_e, dim, [&](int64_t i) { std::copy_n(xb + rows[i] * dim, dim, xg_.data() + i * dim); });
      xa_.set(xg_.data(), n_e, dim);
      if (observer_ != nullptr) {
        observer_->observe(expert_tensor_name(l, "ffn_gate_exps", e), xg_.data(), n_e, dim);
        observer_->observe(expert_tensor_name(l, "ffn_up_exps", e), xg_.data(), n_e, dim);
      }
      qmatmul_xwt(hb, xa_, ew.w_gate);
      qmatmul_xwt(hb2, xa_, ew.w_up);
      for_rows(n_e, fe, [&](int64_t i) { ffn_activation_mul(hb + i * fe, hb2 + i * fe, fe, gelu); });
      xa_.set(hb, n_e, fe);
      if (observer_ != nullptr) observer_->observe(expert_tensor_name(l, "ffn_down_exps", e), hb, n_e, fe);
      qmatmul_xwt(yg_.data(), xa_, ew.w_down);
      for_rows(n_e, dim, [&](int64_t i) {  // the rows of one expert are distinct
        float* out = moe_out_.data() + rows[i] * dim;
        const float* y = yg_.data() + i * dim;
        for (int64_t j = 0; j < dim; ++j) out[j] += wts[i] * y[j];
      });
    }
    for_rows(m, dim, [&](int64_t i) {
      float* out = moe_out_.data() + i * dim;
      if (lw.post_ffn_norm != nullptr) rmsnorm(out, out, lw.post_ffn_norm, dim, c.rms_eps);
      add_inplace(x + i * dim, out, dim);
    });
  }

  // x [m, dim] += xa_·Wᵀ, through post_norm [dim] (RMSNorm of the product,
  // Gemma 2) when there is one, with tmp [m, dim] as scratch.
  void add_block_output(float* x, float* tmp, const WeightMatrix& w, const float* post_norm, int64_t m) {
    const ModelConfig& c = config();
    if (post_norm == nullptr) {
      qmatmul_xwt(x, xa_, w, /*accumulate=*/true);
      return;
    }
    qmatmul_xwt(tmp, xa_, w);
    for_rows(m, c.dim, [&](int64_t i) {
      rmsnorm(tmp + i * c.dim, tmp + i * c.dim, post_norm, c.dim, c.rms_eps);
      add_inplace(x + i * c.dim, tmp + i * c.dim, c.dim);
    });
  }

  int64_t max_context_;
  int64_t pos_ = 0;
  std::vector<float> x_, xb_, q_, att_, hb_, hb2_;      // [kChunk, ...] see run_chunk()
  // Mixture of experts (moe_ffn): router probabilities [m, n_experts], each
  // expert's rows and weights, its gathered inputs and outputs [m, dim], the sum.
  std::vector<float> router_, xg_, yg_, moe_out_;
  std::vector<std::vector<int64_t>> expert_rows_;
  std::vector<std::vector<float>> expert_weights_;
  KvCache cache_;                                       // [n_layers, max_context, kv_dim]
  RopeTables rope_;                                     // [max_context, head_dim/2] per RoPE
  std::vector<float> scratch_;                          // [threads, max_context] attention scores
  QuantizedActivations xa_;                             // the current linear input, quantized per dot type
  std::vector<std::string> linear_names_;               // [n_layers * kLinearPerLayer] for the observer
  std::string output_name_;
};

}  // namespace

std::unique_ptr<ForwardPass> make_fast_forward(std::shared_ptr<const ModelWeights> weights, int64_t max_context) {
  LMPACK_CHECK(weights != nullptr);
  LMPACK_CHECK(static_cast<int64_t>(weights->rope_inv_freq.size()) == weights->config.rope_dims() / 2,
               "ModelWeights without RoPE frequencies (use build_weights)");
  if (max_context <= 0) max_context = weights->config.context_length;
  return std::make_unique<FastForward>(std::move(weights), max_context);
}

}  // namespace lmpack
