// TrainingPass; see training_pass.h. Shapes: rows = batch * seq; row
// r = b * seq + t holds token t of sequence b, at position t.
#include "train/training_pass.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/parallel.h"
#include "kernels/attention.h"
#include "kernels/attention_backward.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/ops_backward.h"

namespace lmpack {
namespace {

// Below this many elementary operations a loop runs on the calling thread:
// a parallel region costs microseconds when the machine is idle and much
// more when it is busy (small models' rows are a few hundred operations).
constexpr int64_t kParallelWork = int64_t{1} << 17;

// fn(i) for i in [0, n), each about `work` operations: on the team (kFast,
// enough work) or in order on this thread. Every index writes its own
// outputs, so the result does not depend on which.
template <typename Fn>
void for_each_index(TrainKernels kernels, int64_t n, int64_t work, Fn&& fn) {
  if (kernels == TrainKernels::kFast && n > 1 && n * work >= kParallelWork)
    parallel_for(n, fn);
  else
    for (int64_t i = 0; i < n; ++i) fn(i);
}

void linear(TrainKernels kernels, float* y, const float* x, const float* w, int64_t m, int64_t n, int64_t k,
            bool accumulate = false) {
  if (kernels == TrainKernels::kFast)
    matmul_xwt(y, x, w, m, n, k, accumulate);
  else
    matmul_xwt_reference(y, x, w, m, n, k, accumulate);
}

void linear_backward(TrainKernels kernels, float* dx, float* dw, const float* dy, const float* x, const float* w,
                     int64_t m, int64_t n, int64_t k, bool accumulate_dx = false) {
  if (kernels == TrainKernels::kFast)
    matmul_xwt_backward(dx, dw, dy, x, w, m, n, k, accumulate_dx);
  else
    matmul_xwt_backward_reference(dx, dw, dy, x, w, m, n, k, accumulate_dx);
}

void add_bias(float* y, const float* bias, int64_t rows, int64_t n) {
  if (bias == nullptr) return;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i) y[r * n + i] += bias[i];
}

// dbias += sum over rows of dy.
void bias_backward(float* dbias, const float* dy, int64_t rows, int64_t n) {
  if (dbias == nullptr) return;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i) dbias[i] += dy[r * n + i];
}

}  // namespace

namespace {

// Floats of one block's inner activations and of everything else the pass
// holds (every block's input included), for rows = batch * seq.
int64_t block_set_floats(const ModelConfig& c, int64_t rows) {
  return rows * (3 * c.dim + 2 * c.q_dim() + 2 * c.kv_dim() + 2 * c.hidden_dim);
}

int64_t fixed_floats(const ModelConfig& c, int64_t rows, int64_t seq, int64_t threads) {
  return rows * c.dim * c.n_layers                                  // inputs_
         + 2 * rows * c.dim                                         // x_final_, xn_final_
         + threads * 2 * seq                                        // scratch_
         + 3 * rows * c.dim + 3 * rows * c.hidden_dim                // dx_, dx_mid_, dxn_, h_, dgate_, dup_
         + 2 * rows * c.q_dim() + 2 * rows * c.kv_dim()              // datt_, dq_, dk_, dv_
         + threads * c.dim + 2 * seq * (c.head_dim / 2);             // norm_partials_, rope tables
}

// Rounded up: "a budget of 1 MiB is less than the 3 MiB needed".
std::string mib(int64_t bytes) {
  if (bytes < (1 << 20)) return cat((bytes + 1023) >> 10, " KiB");
  return cat((bytes + (1 << 20) - 1) >> 20, " MiB");
}

int64_t team_size(TrainKernels kernels) { return kernels == TrainKernels::kFast ? omp_get_max_threads() : 1; }

}  // namespace

size_t TrainingPass::activation_bytes_for(const ModelConfig& c, int64_t batch, int64_t seq, bool all_blocks) {
  const int64_t rows = batch * seq;
  const int64_t sets = all_blocks ? c.n_layers : std::min<int64_t>(c.n_layers, 1);
  return static_cast<size_t>(fixed_floats(c, rows, seq, team_size(TrainKernels::kFast)) +
                             sets * block_set_floats(c, rows)) *
         sizeof(float);
}

TrainingPass::TrainingPass(const TrainableModel& model, int64_t batch, int64_t seq, TrainKernels kernels,
                           size_t activation_budget)
    : model_(model), batch_(batch), seq_(seq), rows_(batch * seq), kernels_(kernels) {
  const ModelConfig& c = model.layout.config();
  if (batch < 1 || seq < 1) throw Error("batch", cat("a training batch needs at least one sequence of one token, got ",
                                                     batch, " x ", seq));
  if (seq > c.context_length)
    throw Error("seq", cat("sequences of ", seq, " tokens are longer than the model's context of ", c.context_length));
  LMPACK_CHECK(static_cast<int64_t>(model.rope_inv_freq.size()) == c.head_dim / 2, "TrainableModel without RoPE frequencies");
  LMPACK_CHECK(model.values.size() == model.layout.size(), "TrainableModel values of the wrong size");
  const int64_t half = c.head_dim / 2, rows = rows_;
  const int64_t threads = team_size(kernels);

  // How many blocks keep their own set: all, or what the budget holds once
  // the rest is paid for (one set then serves the others).
  kept_ = c.n_layers;
  int64_t sets = c.n_layers;
  if (activation_budget > 0) {
    const int64_t set = block_set_floats(c, rows) * static_cast<int64_t>(sizeof(float));
    const int64_t fixed = fixed_floats(c, rows, seq, threads) * static_cast<int64_t>(sizeof(float));
    const int64_t least = fixed + std::min<int64_t>(c.n_layers, 1) * set;
    if (static_cast<int64_t>(activation_budget) < least)
      throw Error("activation_memory",
                  cat(mib(static_cast<int64_t>(activation_budget)), " is less than the ", mib(least),
                      " that batches of ", batch, " x ", seq, " tokens need at the least (every block's input and one "
                      "block's activations): lower the batch or the sequence length"));
    const int64_t fit = (static_cast<int64_t>(activation_budget) - fixed) / set;
    if (fit < c.n_layers) {
      sets = fit;
      kept_ = fit - 1;
    }
  }
  rope_cos_.resize(static_cast<size_t>(seq * half));
  rope_sin_.resize(rope_cos_.size());
  rope_tables(rope_cos_.data(), rope_sin_.data(), model.rope_inv_freq.data(), half, 0, seq);
  auto sized = [](int64_t n) { return std::vector<float>(static_cast<size_t>(n)); };
  inputs_.resize(static_cast<size_t>(c.n_layers));
  for (std::vector<float>& x : inputs_) x = sized(rows * c.dim);
  blocks_.resize(static_cast<size_t>(sets));
  for (BlockActivations& a : blocks_) {
    a.xn1 = sized(rows * c.dim);
    a.q = sized(rows * c.q_dim());
    a.k = sized(rows * c.kv_dim());
    a.v = sized(rows * c.kv_dim());
    a.att = sized(rows * c.q_dim());
    a.x_mid = sized(rows * c.dim);
    a.xn2 = sized(rows * c.dim);
    a.gate = sized(rows * c.hidden_dim);
    a.up = sized(rows * c.hidden_dim);
  }
  x_final_ = sized(rows * c.dim);
  xn_final_ = sized(rows * c.dim);
  scratch_ = sized(threads * 2 * seq);
  dx_ = sized(rows * c.dim);
  dx_mid_ = sized(rows * c.dim);
  dxn_ = sized(rows * c.dim);
  h_ = sized(rows * c.hidden_dim);
  dgate_ = sized(rows * c.hidden_dim);
  dup_ = sized(rows * c.hidden_dim);
  datt_ = sized(rows * c.q_dim());
  dq_ = sized(rows * c.q_dim());
  dk_ = sized(rows * c.kv_dim());
  dv_ = sized(rows * c.kv_dim());
  norm_partials_ = sized(threads * c.dim);
}

size_t TrainingPass::activation_bytes() const {
  size_t floats = x_final_.size() + xn_final_.size() + scratch_.size() + dx_.size() + dx_mid_.size() + dxn_.size() +
                  h_.size() + dgate_.size() + dup_.size() + datt_.size() + dq_.size() + dk_.size() + dv_.size() +
                  norm_partials_.size() + rope_cos_.size() + rope_sin_.size();
  for (const std::vector<float>& x : inputs_) floats += x.size();
  for (const BlockActivations& a : blocks_)
    floats += a.xn1.size() + a.q.size() + a.k.size() + a.v.size() + a.att.size() + a.x_mid.size() + a.xn2.size() +
              a.gate.size() + a.up.size();
  return floats * sizeof(float);
}

// The last block's activations are still in the shared set when the
// backward starts: it is not recomputed.
int64_t TrainingPass::recomputed_blocks() const {
  return std::max<int64_t>(0, static_cast<int64_t>(inputs_.size()) - kept_ - 1);
}

TrainingPass::BlockActivations& TrainingPass::activations_of(int64_t l) {
  return l < kept_ ? blocks_[static_cast<size_t>(l)] : blocks_.back();
}

void TrainingPass::attention_forward(BlockActivations& a) {
  const ModelConfig& c = model_.layout.config();
  const int64_t hd = c.head_dim, q_dim = c.q_dim(), kv_dim = c.kv_dim(), group = c.n_heads / c.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for_each_index(kernels_, batch_ * c.n_heads, seq_ * seq_ * hd, [&](int64_t task) {
    const int64_t b = task / c.n_heads, h = task % c.n_heads, kvh = h / group;
    const int64_t r0 = b * seq_;
    const int thread = kernels_ == TrainKernels::kFast ? omp_get_thread_num() : 0;
    float* scratch = scratch_.data() + static_cast<size_t>(thread) * 2 * seq_;
    auto run = kernels_ == TrainKernels::kFast ? &attention_causal : &attention_causal_reference;
    run(a.att.data() + r0 * q_dim + h * hd, a.q.data() + r0 * q_dim + h * hd, a.k.data() + r0 * kv_dim + kvh * hd,
        a.v.data() + r0 * kv_dim + kvh * hd, scratch, seq_, 0, hd, q_dim, q_dim, kv_dim, scale, 0, 0.0f);
  });
}

void TrainingPass::attention_backward(const BlockActivations& a, const float* datt, float* dq, float* dk, float* dv) {
  const ModelConfig& c = model_.layout.config();
  const int64_t hd = c.head_dim, q_dim = c.q_dim(), kv_dim = c.kv_dim(), group = c.n_heads / c.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::fill(dk, dk + rows_ * kv_dim, 0.0f);
  std::fill(dv, dv + rows_ * kv_dim, 0.0f);
  // One task per (sequence, KV head): the query heads of a group add into
  // the same dk, dv rows, so they stay on one thread, in head order.
  for_each_index(kernels_, batch_ * c.n_kv_heads, group * seq_ * seq_ * hd * 2, [&](int64_t task) {
    const int64_t b = task / c.n_kv_heads, kvh = task % c.n_kv_heads;
    const int64_t r0 = b * seq_;
    const int thread = kernels_ == TrainKernels::kFast ? omp_get_thread_num() : 0;
    float* scratch = scratch_.data() + static_cast<size_t>(thread) * 2 * seq_;
    auto run = kernels_ == TrainKernels::kFast ? &attention_causal_backward : &attention_causal_backward_reference;
    for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h)
      run(dq + r0 * q_dim + h * hd, dk + r0 * kv_dim + kvh * hd, dv + r0 * kv_dim + kvh * hd,
          datt + r0 * q_dim + h * hd, a.q.data() + r0 * q_dim + h * hd, a.k.data() + r0 * kv_dim + kvh * hd,
          a.v.data() + r0 * kv_dim + kvh * hd, scratch, seq_, hd, q_dim, q_dim, kv_dim, scale);
  });
}

void TrainingPass::block_forward(int64_t l, const float* x, BlockActivations& a, float* out) {
  const ModelConfig& c = model_.layout.config();
  const ModelTensors<const float> w = model_.layout.view(static_cast<const float*>(model_.values.data()));
  const int64_t rows = rows_, dim = c.dim, q_dim = c.q_dim(), kv_dim = c.kv_dim(), hidden = c.hidden_dim;
  const int64_t half = c.head_dim / 2;
  const bool fast = kernels_ == TrainKernels::kFast;
  const LayerTensors<const float>& lw = w.layers[l];
  for_each_index(kernels_, rows, dim * 4, [&](int64_t r) {
    (fast ? rmsnorm : rmsnorm_reference)(a.xn1.data() + r * dim, x + r * dim, lw.attn_norm, dim, c.rms_eps);
  });
  linear(kernels_, a.q.data(), a.xn1.data(), lw.wq, rows, q_dim, dim);
  linear(kernels_, a.k.data(), a.xn1.data(), lw.wk, rows, kv_dim, dim);
  linear(kernels_, a.v.data(), a.xn1.data(), lw.wv, rows, kv_dim, dim);
  add_bias(a.q.data(), lw.bq, rows, q_dim);
  add_bias(a.k.data(), lw.bk, rows, kv_dim);
  add_bias(a.v.data(), lw.bv, rows, kv_dim);
  for_each_index(kernels_, rows, q_dim * 4, [&](int64_t r) {
    const int64_t t = r % seq_;
    auto rot = fast ? rope : rope_reference;
    rot(a.q.data() + r * q_dim, rope_cos_.data() + t * half, rope_sin_.data() + t * half, c.n_heads, c.head_dim, 0);
    rot(a.k.data() + r * kv_dim, rope_cos_.data() + t * half, rope_sin_.data() + t * half, c.n_kv_heads, c.head_dim, 0);
  });
  attention_forward(a);
  std::copy_n(x, rows * dim, a.x_mid.begin());
  linear(kernels_, a.x_mid.data(), a.att.data(), lw.wo, rows, dim, q_dim, true);
  for_each_index(kernels_, rows, dim * 4, [&](int64_t r) {
    (fast ? rmsnorm : rmsnorm_reference)(a.xn2.data() + r * dim, a.x_mid.data() + r * dim, lw.ffn_norm, dim,
                                         c.rms_eps);
  });
  linear(kernels_, a.gate.data(), a.xn2.data(), lw.w_gate, rows, hidden, dim);
  linear(kernels_, a.up.data(), a.xn2.data(), lw.w_up, rows, hidden, dim);
  if (out == nullptr) return;  // the backward makes h from gate and up itself
  std::copy(a.gate.begin(), a.gate.end(), h_.begin());
  for_each_index(kernels_, rows, hidden * 4, [&](int64_t r) { silu_mul(h_.data() + r * hidden, a.up.data() + r * hidden, hidden); });
  std::copy(a.x_mid.begin(), a.x_mid.end(), out);
  linear(kernels_, out, h_.data(), lw.w_down, rows, dim, hidden, true);
}

void TrainingPass::forward(const int32_t* tokens, float* logits) {
  const ModelConfig& c = model_.layout.config();
  const ModelTensors<const float> w = model_.layout.view(static_cast<const float*>(model_.values.data()));
  const int64_t rows = rows_, dim = c.dim;
  for (int64_t r = 0; r < rows; ++r)
    if (tokens[r] < 0 || tokens[r] >= c.vocab_size)
      throw Error("tokens", cat("token id ", tokens[r], " at index ", r, " is outside the vocabulary [0, ",
                                c.vocab_size, ")"));
  tokens_.assign(tokens, tokens + rows);
  const bool fast = kernels_ == TrainKernels::kFast;

  float* x = inputs_.empty() ? x_final_.data() : inputs_[0].data();
  for (int64_t r = 0; r < rows; ++r) std::copy_n(w.token_embd + static_cast<int64_t>(tokens[r]) * dim, dim, x + r * dim);
  work_holds_ = -1;
  for (size_t l = 0; l < inputs_.size(); ++l) {
    float* next = l + 1 < inputs_.size() ? inputs_[l + 1].data() : x_final_.data();
    block_forward(static_cast<int64_t>(l), inputs_[l].data(), activations_of(static_cast<int64_t>(l)), next);
    if (static_cast<int64_t>(l) >= kept_) work_holds_ = static_cast<int64_t>(l);
  }
  for_each_index(kernels_, rows, dim * 4, [&](int64_t r) {
    (fast ? rmsnorm : rmsnorm_reference)(xn_final_.data() + r * dim, x_final_.data() + r * dim, w.output_norm, dim,
                                         c.rms_eps);
  });
  linear(kernels_, logits, xn_final_.data(), w.output, rows, c.vocab_size, dim);
}

namespace {

// RMSNorm backward over rows: dx rows written, dw += the rows' sum. On the
// team each thread sums its rows' dw into its own partial row, and the
// partials are added in thread order: the same threads give the same bits.
void rmsnorm_backward_rows(TrainKernels kernels, float* dx, float* dw, const float* dy, const float* x, const float* w,
                           int64_t rows, int64_t dim, float eps, std::vector<float>& partials) {
  if (kernels == TrainKernels::kReference || rows * dim * 8 < kParallelWork) {
    for (int64_t r = 0; r < rows; ++r) rmsnorm_backward(dx + r * dim, dw, dy + r * dim, x + r * dim, w, dim, eps);
    return;
  }
  const int threads = static_cast<int>(partials.size() / static_cast<size_t>(dim));
  std::fill(partials.begin(), partials.end(), 0.0f);
  int used = 1;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
#pragma omp single
    used = n;
    const int64_t r0 = rows * t / n, r1 = rows * (t + 1) / n;
    float* mine = partials.data() + static_cast<size_t>(t) * dim;
    for (int64_t r = r0; r < r1; ++r) rmsnorm_backward(dx + r * dim, mine, dy + r * dim, x + r * dim, w, dim, eps);
  }
  for (int t = 0; t < used; ++t)
    for (int64_t i = 0; i < dim; ++i) dw[i] += partials[static_cast<size_t>(t) * dim + i];
}

}  // namespace

const float* TrainingPass::block_output(int64_t l) const {
  LMPACK_CHECK(l >= 0 && l < static_cast<int64_t>(inputs_.size()), "block_output: no such block");
  return static_cast<size_t>(l) + 1 < inputs_.size() ? inputs_[l + 1].data() : x_final_.data();
}

void TrainingPass::backward(const float* dlogits, float* grads, const std::vector<const float*>* block_output_grads) {
  LMPACK_CHECK(static_cast<int64_t>(tokens_.size()) == rows_, "TrainingPass::backward before forward");
  const ModelConfig& c = model_.layout.config();
  const ModelTensors<const float> w = model_.layout.view(static_cast<const float*>(model_.values.data()));
  const ModelTensors<float> g = model_.layout.view(grads);
  const int64_t rows = rows_, dim = c.dim, q_dim = c.q_dim(), kv_dim = c.kv_dim(), hidden = c.hidden_dim;
  const int64_t half = c.head_dim / 2;

  // logits = xn_final · outputᵀ; xn_final = rmsnorm(x_final) * output_norm
  linear_backward(kernels_, dxn_.data(), g.output, dlogits, xn_final_.data(), w.output, rows, c.vocab_size, dim);
  rmsnorm_backward_rows(kernels_, dx_.data(), g.output_norm, dxn_.data(), x_final_.data(), w.output_norm, rows, dim,
                        c.rms_eps, norm_partials_);

  for (size_t l = inputs_.size(); l-- > 0;) {
    const float* x = inputs_[l].data();
    BlockActivations& a = activations_of(static_cast<int64_t>(l));
    if (static_cast<int64_t>(l) >= kept_ && work_holds_ != static_cast<int64_t>(l)) {
      block_forward(static_cast<int64_t>(l), x, a, nullptr);  // recomputed from the block's input
      work_holds_ = static_cast<int64_t>(l);
    }
    const LayerTensors<const float>& lw = w.layers[l];
    const LayerTensors<float>& lg = g.layers[l];
    // dx_ holds d loss / d (this block's output).
    if (block_output_grads != nullptr && l < block_output_grads->size() && (*block_output_grads)[l] != nullptr)
      add_inplace(dx_.data(), (*block_output_grads)[l], rows * dim);
    // FFN: out = x_mid + h · w_downᵀ, h = silu(gate) * up, gate/up = xn2 · w_gate/w_upᵀ
    std::copy(a.gate.begin(), a.gate.end(), h_.begin());
    for_each_index(kernels_, rows, hidden * 4, [&](int64_t r) { silu_mul(h_.data() + r * hidden, a.up.data() + r * hidden, hidden); });
    linear_backward(kernels_, dup_.data(), lg.w_down, dx_.data(), h_.data(), lw.w_down, rows, dim, hidden);  // dh
    for_each_index(kernels_, rows, hidden * 4, [&](int64_t r) {
      const size_t o = static_cast<size_t>(r * hidden);
      silu_mul_backward(dgate_.data() + o, dup_.data() + o, dup_.data() + o, a.gate.data() + o, a.up.data() + o,
                        hidden);
    });
    linear_backward(kernels_, dxn_.data(), lg.w_gate, dgate_.data(), a.xn2.data(), lw.w_gate, rows, hidden, dim);
    linear_backward(kernels_, dxn_.data(), lg.w_up, dup_.data(), a.xn2.data(), lw.w_up, rows, hidden, dim, true);
    rmsnorm_backward_rows(kernels_, dx_mid_.data(), lg.ffn_norm, dxn_.data(), a.x_mid.data(), lw.ffn_norm, rows, dim,
                          c.rms_eps, norm_partials_);
    add_inplace(dx_mid_.data(), dx_.data(), rows * dim);  // the residual path
    // Attention: x_mid = x + att · w_oᵀ
    linear_backward(kernels_, datt_.data(), lg.wo, dx_mid_.data(), a.att.data(), lw.wo, rows, dim, q_dim);
    attention_backward(a, datt_.data(), dq_.data(), dk_.data(), dv_.data());
    for_each_index(kernels_, rows, q_dim * 4, [&](int64_t r) {
      const int64_t t = r % seq_;
      rope_backward(dq_.data() + r * q_dim, rope_cos_.data() + t * half, rope_sin_.data() + t * half, c.n_heads,
                    c.head_dim);
      rope_backward(dk_.data() + r * kv_dim, rope_cos_.data() + t * half, rope_sin_.data() + t * half, c.n_kv_heads,
                    c.head_dim);
    });
    bias_backward(lg.bq, dq_.data(), rows, q_dim);
    bias_backward(lg.bk, dk_.data(), rows, kv_dim);
    bias_backward(lg.bv, dv_.data(), rows, kv_dim);
    linear_backward(kernels_, dxn_.data(), lg.wq, dq_.data(), a.xn1.data(), lw.wq, rows, q_dim, dim);
    linear_backward(kernels_, dxn_.data(), lg.wk, dk_.data(), a.xn1.data(), lw.wk, rows, kv_dim, dim, true);
    linear_backward(kernels_, dxn_.data(), lg.wv, dv_.data(), a.xn1.data(), lw.wv, rows, kv_dim, dim, true);
    rmsnorm_backward_rows(kernels_, dx_.data(), lg.attn_norm, dxn_.data(), x, lw.attn_norm, rows, dim,
                          c.rms_eps, norm_partials_);
    add_inplace(dx_.data(), dx_mid_.data(), rows * dim);  // dx_ now: d loss / d (this block's input)
  }
  // The embedding: each row's gradient goes to its token's row (to the output
  // head's rows too when tied: g.token_embd == g.output).
  for (int64_t r = 0; r < rows; ++r)
    add_inplace(g.token_embd + static_cast<int64_t>(tokens_[r]) * dim, dx_.data() + r * dim, dim);
}

}  // namespace lmpack
