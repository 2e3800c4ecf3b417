// Block stages for calibration; see block_forward.h. GEMMs through oneDNN
// (matmul_xwt), attention parallel over (window, head) pairs.
#include "runtime/block_forward.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/large_buffer.h"
#include "core/parallel.h"
#include "formats/decode.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/moe_route.h"
#include "model/tensor_names.h"
#include "kernels/ops.h"

namespace lmpack {
namespace {

constexpr int64_t kRowChunk = 512;  // rows of the FFN intermediates held at once

std::vector<float> decode_tensor(const Checkpoint& ckpt, const std::string& name) {
  const TensorInfo& t = ckpt.tensor(name);
  std::vector<float> out = large_vector<float>(static_cast<size_t>(t.n_elements()));
  decode_to_f32(out.data(), t.data, t.dtype, t.n_elements());
  return out;
}

}  // namespace

BlockF32 load_block_f32(const Checkpoint& ckpt, int64_t layer) {
  const std::string p = cat("blk.", layer, ".");
  BlockF32 b;
  b.layer = layer;
  b.attn_norm = decode_tensor(ckpt, p + "attn_norm.weight");
  b.wq = decode_tensor(ckpt, p + "attn_q.weight");
  b.wk = decode_tensor(ckpt, p + "attn_k.weight");
  b.wv = decode_tensor(ckpt, p + "attn_v.weight");
  if (ckpt.find(p + "attn_q.bias") != nullptr) b.bq = decode_tensor(ckpt, p + "attn_q.bias");
  if (ckpt.find(p + "attn_k.bias") != nullptr) b.bk = decode_tensor(ckpt, p + "attn_k.bias");
  if (ckpt.find(p + "attn_v.bias") != nullptr) b.bv = decode_tensor(ckpt, p + "attn_v.bias");
  if (ckpt.find(p + "attn_q_norm.weight") != nullptr) b.q_norm = decode_tensor(ckpt, p + "attn_q_norm.weight");
  if (ckpt.find(p + "attn_k_norm.weight") != nullptr) b.k_norm = decode_tensor(ckpt, p + "attn_k_norm.weight");
  b.wo = decode_tensor(ckpt, p + "attn_output.weight");
  if (ckpt.find(p + "post_attention_norm.weight") != nullptr)
    b.post_attn_norm = decode_tensor(ckpt, p + "post_attention_norm.weight");
  if (ckpt.find(p + "post_ffw_norm.weight") != nullptr) b.post_ffn_norm = decode_tensor(ckpt, p + "post_ffw_norm.weight");
  b.ffn_norm = decode_tensor(ckpt, p + "ffn_norm.weight");
  if (ckpt.config.is_moe()) {
    b.router = decode_tensor(ckpt, router_tensor_name(layer));
    for (int64_t e = 0; e < ckpt.config.n_experts; ++e)
      b.experts.push_back({decode_tensor(ckpt, expert_tensor_name(layer, "ffn_gate_exps", e)),
                           decode_tensor(ckpt, expert_tensor_name(layer, "ffn_up_exps", e)),
                           decode_tensor(ckpt, expert_tensor_name(layer, "ffn_down_exps", e))});
  } else {
    b.w_gate = decode_tensor(ckpt, p + "ffn_gate.weight");
    b.w_up = decode_tensor(ckpt, p + "ffn_up.weight");
    b.w_down = decode_tensor(ckpt, p + "ffn_down.weight");
  }
  return b;
}

RopeTables make_rope_tables(const ModelWeights& weights, int64_t ctx) {
  const bool long_context = !weights.rope_inv_freq_long.empty() && ctx > weights.rope_long_above;
  RopeTables t = make_rope_tables(long_context ? weights.rope_inv_freq_long : weights.rope_inv_freq, ctx,
                                  weights.rope_inv_freq_local);
  if (weights.rope_magnitude != 1.0f) {  // LongRoPE's attention factor scales both
    for (float& v : t.cos) v *= weights.rope_magnitude;
    for (float& v : t.sin) v *= weights.rope_magnitude;
  }
  return t;
}

RopeTables make_rope_tables(const std::vector<float>& inv_freq, int64_t ctx, const std::vector<float>& inv_freq_local) {
  RopeTables t;
  t.ctx = ctx;
  t.half = static_cast<int64_t>(inv_freq.size());
  t.cos.resize(static_cast<size_t>(ctx * t.half));
  t.sin.resize(static_cast<size_t>(ctx * t.half));
  rope_tables(t.cos.data(), t.sin.data(), inv_freq.data(), t.half, 0, ctx);
  if (!inv_freq_local.empty()) {
    t.cos_local.resize(t.cos.size());
    t.sin_local.resize(t.sin.size());
    rope_tables(t.cos_local.data(), t.sin_local.data(), inv_freq_local.data(), t.half, 0, ctx);
  }
  return t;
}

void block_rmsnorm(float* xn, const float* x, const float* norm, int64_t tokens, int64_t dim, float eps) {
  parallel_for(tokens, [&](int64_t i) { rmsnorm(xn + i * dim, x + i * dim, norm, dim, eps); });
}

void block_attention(float* att, const float* xn, const BlockF32& b, const ModelConfig& c, const RopeTables& tables,
                     int64_t n_windows) {
  const int64_t ctx = tables.ctx, dim = c.dim, hd = c.head_dim, q_dim = c.q_dim(), kv_dim = c.kv_dim();
  const int64_t group = c.n_heads / c.n_kv_heads;
  const float scale = c.attention_score_scale();
  std::vector<float> q(static_cast<size_t>(ctx * q_dim));    // [ctx, q_dim] one window
  std::vector<float> k(static_cast<size_t>(ctx * kv_dim));   // [ctx, kv_dim]
  std::vector<float> v(static_cast<size_t>(ctx * kv_dim));   // [ctx, kv_dim]
  std::vector<float> scratch(static_cast<size_t>(omp_get_max_threads()) * ctx);
  const float* cos_table = tables.cos_of(c, b.layer);  // [ctx, half]
  const float* sin_table = tables.sin_of(c, b.layer);
  for (int64_t w = 0; w < n_windows; ++w) {
    const float* xw = xn + w * ctx * dim;  // [ctx, dim]
    float* aw = att + w * ctx * q_dim;     // [ctx, q_dim]
    matmul_xwt(q.data(), xw, b.wq.data(), ctx, q_dim, dim);
    matmul_xwt(k.data(), xw, b.wk.data(), ctx, kv_dim, dim);
    matmul_xwt(v.data(), xw, b.wv.data(), ctx, kv_dim, dim);
    parallel_for(ctx, [&](int64_t i) {
      float* qi = q.data() + i * q_dim;
      float* ki = k.data() + i * kv_dim;
      float* vi = v.data() + i * kv_dim;
      if (!b.bq.empty()) add_inplace(qi, b.bq.data(), q_dim);
      if (!b.bk.empty()) add_inplace(ki, b.bk.data(), kv_dim);
      if (!b.bv.empty()) add_inplace(vi, b.bv.data(), kv_dim);
      if (!b.q_norm.empty()) rmsnorm_heads(qi, b.q_norm.data(), c.n_heads, hd, c.rms_eps);
      if (!b.k_norm.empty()) rmsnorm_heads(ki, b.k_norm.data(), c.n_kv_heads, hd, c.rms_eps);
      if (!c.layer_has_rope(b.layer)) return;  // SmolLM3's NoPE layers
      rope(qi, cos_table + i * tables.half, sin_table + i * tables.half, c.n_heads, hd, c.rope_dims());
      rope(ki, cos_table + i * tables.half, sin_table + i * tables.half, c.n_kv_heads, hd, c.rope_dims());
    });
    parallel_for(c.n_heads, [&](int64_t h) {
      const int64_t kv_off = (h / group) * hd;
      float* s = scratch.data() + static_cast<size_t>(omp_get_thread_num()) * ctx;
      attention_causal(aw + h * hd, q.data() + h * hd, k.data() + kv_off, v.data() + kv_off, s, ctx, 0, hd, q_dim,
                       q_dim, kv_dim, scale, c.attention_window(b.layer), c.attn_softcap);
    });
  }
}

void block_ffn_act(float* act, const float* xn, const BlockF32& b, const ModelConfig& c, int64_t tokens) {
  const int64_t dim = c.dim, hidden = c.hidden_dim;
  std::vector<float> up = large_vector<float>(static_cast<size_t>(std::min(kRowChunk, tokens) * hidden));  // [chunk, hidden]
  for (int64_t r0 = 0; r0 < tokens; r0 += kRowChunk) {
    const int64_t m = std::min(kRowChunk, tokens - r0);
    float* gate = act + r0 * hidden;  // [m, hidden]
    matmul_xwt(gate, xn + r0 * dim, b.w_gate.data(), m, hidden, dim);
    matmul_xwt(up.data(), xn + r0 * dim, b.w_up.data(), m, hidden, dim);
    const bool gelu = c.ffn_activation == FfnActivation::kGeluTanh;
    parallel_for(m, [&](int64_t i) { ffn_activation_mul(gate + i * hidden, up.data() + i * hidden, hidden, gelu); });
  }
}

namespace {

// x [T, dim] += in·Wᵀ, through post_norm when not empty.
void add_output(float* x, const float* in, const std::vector<float>& w, const std::vector<float>& post_norm,
                const ModelConfig& c, int64_t tokens, int64_t cols) {
  if (post_norm.empty()) {
    matmul_xwt(x, in, w.data(), tokens, c.dim, cols, /*accumulate=*/true);
    return;
  }
  std::vector<float> out = large_vector<float>(static_cast<size_t>(tokens * c.dim));  // [T, dim]
  matmul_xwt(out.data(), in, w.data(), tokens, c.dim, cols);
  parallel_for(tokens, [&](int64_t i) {
    rmsnorm(out.data() + i * c.dim, out.data() + i * c.dim, post_norm.data(), c.dim, c.rms_eps);
    add_inplace(x + i * c.dim, out.data() + i * c.dim, c.dim);
  });
}

}  // namespace

void block_add_attn_output(float* x, const float* att, const BlockF32& b, const ModelConfig& c, int64_t tokens) {
  add_output(x, att, b.wo, b.post_attn_norm, c, tokens, c.q_dim());
}

void block_add_ffn_output(float* x, const float* act, const BlockF32& b, const ModelConfig& c, int64_t tokens) {
  add_output(x, act, b.w_down, b.post_ffn_norm, c, tokens, c.hidden_dim);
}

std::vector<BlockLinear> block_linears(BlockF32& b, const ModelConfig& c) {
  std::vector<BlockLinear> all = {{"attn_q.weight", &b.wq, c.dim},
                                  {"attn_k.weight", &b.wk, c.dim},
                                  {"attn_v.weight", &b.wv, c.dim},
                                  {"attn_output.weight", &b.wo, c.q_dim()}};
  if (b.experts.empty()) {
    all.push_back({"ffn_gate.weight", &b.w_gate, c.dim});
    all.push_back({"ffn_up.weight", &b.w_up, c.dim});
    all.push_back({"ffn_down.weight", &b.w_down, c.hidden_dim});
    return all;
  }
  for (size_t e = 0; e < b.experts.size(); ++e) {
    ExpertF32& x = b.experts[e];
    all.push_back({cat("ffn_gate_exps.", e, ".weight"), &x.w_gate, c.dim});
    all.push_back({cat("ffn_up_exps.", e, ".weight"), &x.w_up, c.dim});
    all.push_back({cat("ffn_down_exps.", e, ".weight"), &x.w_down, c.expert_hidden_dim});
  }
  return all;
}

namespace {

// The mixture-of-experts half of walk_block_stages: xn [T, dim] the normed
// residual stream; x gets the weighted experts' outputs when add_output.
void walk_expert_stages(BlockF32& b, const ModelConfig& c, const float* xn, int64_t T, float* x, bool add_output,
                        const std::vector<BlockLinear>& all, const std::function<void(const BlockStage&)>& visit,
                        int64_t min_tokens) {
  const int64_t dim = c.dim, fe = c.expert_hidden_dim, n_exp = c.n_experts;
  std::vector<float> logits(static_cast<size_t>(T * n_exp));  // [T, n_experts]
  matmul_xwt(logits.data(), xn, b.router.data(), T, n_exp, dim);
  std::vector<std::vector<int64_t>> rows;
  std::vector<std::vector<float>> weights;
  moe_dispatch(logits.data(), T, n_exp, c.n_experts_used, c.norm_topk_prob, rows, weights);
  std::vector<float>().swap(logits);
  std::vector<float> out(add_output ? static_cast<size_t>(T * dim) : 0, 0.0f);  // [T, dim] weighted sum
  const bool gelu = c.ffn_activation == FfnActivation::kGeluTanh;
  for (int64_t e = 0; e < n_exp; ++e) {
    const std::vector<int64_t>& routed = rows[static_cast<size_t>(e)];
    const auto n_routed = static_cast<int64_t>(routed.size());
    const bool everyone = n_routed < min_tokens;
    const int64_t n = everyone ? T : n_routed;  // the stage's tokens
    ExpertF32& ex = b.experts[static_cast<size_t>(e)];
    std::vector<float> xg(static_cast<size_t>(n * dim));  // [n, dim]
    parallel_for(n, [&](int64_t i) { std::copy_n(xn + (everyone ? i : routed[i]) * dim, dim, xg.data() + i * dim); });
    BlockStage up;
    up.input = xg.data();
    up.tokens = n;
    up.cols = dim;
    up.linears = {all[4 + 3 * e], all[5 + 3 * e]};  // no producer: ffn_norm also feeds the router and the others
    up.expert = e;
    up.routed_tokens = n_routed;
    visit(up);
    std::vector<float> act(static_cast<size_t>(n * fe)), tmp(static_cast<size_t>(n * fe));  // [n, fe]
    matmul_xwt(act.data(), xg.data(), ex.w_gate.data(), n, fe, dim);
    matmul_xwt(tmp.data(), xg.data(), ex.w_up.data(), n, fe, dim);
    parallel_for(n, [&](int64_t i) { ffn_activation_mul(act.data() + i * fe, tmp.data() + i * fe, fe, gelu); });
    BlockStage down;
    down.input = act.data();
    down.tokens = n;
    down.cols = fe;
    down.linears = {all[6 + 3 * e]};
    down.producer_rows = &ex.w_up;
    down.producer_cols = dim;
    down.expert = e;
    down.routed_tokens = n_routed;
    visit(down);
    if (!add_output || n_routed == 0) continue;
    std::vector<float> y(static_cast<size_t>(n * dim));  // [n, dim]
    matmul_xwt(y.data(), act.data(), ex.w_down.data(), n, dim, fe);
    const std::vector<float>& w = weights[static_cast<size_t>(e)];
    parallel_for(n_routed, [&](int64_t i) {  // one expert's routed rows are distinct
      const int64_t r = routed[i];
      const float* yr = y.data() + (everyone ? r : i) * dim;
      float* o = out.data() + r * dim;
      for (int64_t j = 0; j < dim; ++j) o[j] += w[i] * yr[j];
    });
  }
  if (!add_output) return;
  parallel_for(T, [&](int64_t i) {
    float* o = out.data() + i * dim;
    if (!b.post_ffn_norm.empty()) rmsnorm(o, o, b.post_ffn_norm.data(), dim, c.rms_eps);
    add_inplace(x + i * dim, o, dim);
  });
}

}  // namespace

void walk_block_stages(BlockF32& b, const ModelConfig& c, const RopeTables& rope, int64_t n_windows, float* x,
                       bool add_ffn_output, const std::function<void(const BlockStage&)>& visit,
                       int64_t min_expert_tokens) {
  const int64_t T = n_windows * rope.ctx, dim = c.dim, q_dim = c.q_dim(), hidden = c.hidden_dim;
  const std::vector<BlockLinear> all = block_linears(b, c);
  std::vector<float> xn = large_vector<float>(static_cast<size_t>(T * dim));  // [T, dim]
  block_rmsnorm(xn.data(), x, b.attn_norm.data(), T, dim, c.rms_eps);
  {
    BlockStage st;
    st.input = xn.data();
    st.tokens = T;
    st.cols = dim;
    st.linears = {all[0], all[1], all[2]};
    st.producer_norm = &b.attn_norm;
    visit(st);
  }
  {
    std::vector<float> att = large_vector<float>(static_cast<size_t>(T * q_dim));  // [T, q_dim]
    block_attention(att.data(), xn.data(), b, c, rope, n_windows);
    BlockStage st;
    st.input = att.data();
    st.tokens = T;
    st.cols = q_dim;
    st.linears = {all[3]};
    if (q_dim == c.kv_dim()) {
      st.producer_rows = &b.wv;
      st.producer_cols = dim;
      st.producer_bias = &b.bv;
    }
    visit(st);
    block_add_attn_output(x, att.data(), b, c, T);
  }
  block_rmsnorm(xn.data(), x, b.ffn_norm.data(), T, dim, c.rms_eps);
  if (!b.experts.empty()) {
    walk_expert_stages(b, c, xn.data(), T, x, add_ffn_output, all, visit, min_expert_tokens);
    return;
  }
  {
    BlockStage st;
    st.input = xn.data();
    st.tokens = T;
    st.cols = dim;
    st.linears = {all[4], all[5]};
    st.producer_norm = &b.ffn_norm;
    visit(st);
  }
  std::vector<float> act = large_vector<float>(static_cast<size_t>(T * hidden));  // [T, hidden]
  block_ffn_act(act.data(), xn.data(), b, c, T);
  std::vector<float>().swap(xn);
  BlockStage st;
  st.input = act.data();
  st.tokens = T;
  st.cols = hidden;
  st.linears = {all[6]};
  st.producer_rows = &b.w_up;
  st.producer_cols = dim;
  visit(st);
  if (add_ffn_output) block_add_ffn_output(x, act.data(), b, c, T);
}

}  // namespace lmpack
