// Block stages for calibration; see block_forward.h. GEMMs through oneDNN
// (matmul_xwt), attention parallel over (window, head) pairs.
#include "runtime/block_forward.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"
#include "formats/decode.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"

namespace lmpack {
namespace {

constexpr int64_t kRowChunk = 512;  // rows of the FFN intermediates held at once

std::vector<float> decode_tensor(const Checkpoint& ckpt, const std::string& name) {
  const TensorInfo& t = ckpt.tensor(name);
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
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
  b.w_gate = decode_tensor(ckpt, p + "ffn_gate.weight");
  b.w_up = decode_tensor(ckpt, p + "ffn_up.weight");
  b.w_down = decode_tensor(ckpt, p + "ffn_down.weight");
  return b;
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
      rope(qi, cos_table + i * tables.half, sin_table + i * tables.half, c.n_heads, hd);
      rope(ki, cos_table + i * tables.half, sin_table + i * tables.half, c.n_kv_heads, hd);
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
  std::vector<float> up(static_cast<size_t>(std::min(kRowChunk, tokens) * hidden));  // [chunk, hidden]
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
  std::vector<float> out(static_cast<size_t>(tokens * c.dim));  // [T, dim]
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
  return {{"attn_q.weight", &b.wq, c.dim},         {"attn_k.weight", &b.wk, c.dim},
          {"attn_v.weight", &b.wv, c.dim},         {"attn_output.weight", &b.wo, c.q_dim()},
          {"ffn_gate.weight", &b.w_gate, c.dim},   {"ffn_up.weight", &b.w_up, c.dim},
          {"ffn_down.weight", &b.w_down, c.hidden_dim}};
}

void walk_block_stages(BlockF32& b, const ModelConfig& c, const RopeTables& rope, int64_t n_windows, float* x,
                       bool add_ffn_output, const std::function<void(const BlockStage&)>& visit) {
  const int64_t T = n_windows * rope.ctx, dim = c.dim, q_dim = c.q_dim(), hidden = c.hidden_dim;
  const std::vector<BlockLinear> all = block_linears(b, c);
  std::vector<float> xn(static_cast<size_t>(T * dim));  // [T, dim]
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
    std::vector<float> att(static_cast<size_t>(T * q_dim));  // [T, q_dim]
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
  {
    BlockStage st;
    st.input = xn.data();
    st.tokens = T;
    st.cols = dim;
    st.linears = {all[4], all[5]};
    st.producer_norm = &b.ffn_norm;
    visit(st);
  }
  std::vector<float> act(static_cast<size_t>(T * hidden));  // [T, hidden]
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
