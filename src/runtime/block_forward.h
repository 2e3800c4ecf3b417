// One transformer block in fp32 over a batch of calibration windows, split
// into the stages that calibrated compression needs to see (pipeline/
// sequential_calibration.h): each stage's output is the input of the next
// group of linear layers, so a method can compress the layers of a stage
// before the stage that consumes their outputs runs.
//
//   x [T, dim]  residual stream of n_windows windows of ctx tokens (T = n_windows·ctx),
//               each window starting at position 0
//   block_attn_norm     xn  = rmsnorm(x, attn_norm)                  → q/k/v input
//   block_attention     att = causal attention(q, k, v of xn)        → attn_output input
//                       (q, k: bias, per-head norm (Qwen3), RoPE)
//   x += att·Woᵀ        (kernels/matmul.h matmul_xwt, accumulate; Gemma 2:
//                        x += rmsnorm(att·Woᵀ, post_attention_norm))
//   block_ffn_norm      xn  = rmsnorm(x, ffn_norm)                   → gate/up input
//   block_ffn_act       act = silu(xn·Wgᵀ) ⊙ (xn·Wuᵀ) (Gemma: tanh GELU) → ffn_down input
//   x += act·Wdᵀ        (Gemma 2: through post_ffw_norm likewise)
// A mixture-of-experts block routes every token (kernels/moe_route.h) and
// has two stages per expert instead of the last two: its gate/up over the
// tokens routed to it, its down over their activations; x gets the chosen
// experts' outputs weighted. An expert routed fewer than kMinExpertTokens
// tokens sees every token of the block in its stages instead (its Hessian
// would be near empty otherwise); its output still counts for its own
// tokens only.
// The same math as the forward passes (runtime/forward.h), with weights that
// the caller owns and may change between stages.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "runtime/weights.h"

namespace lmpack {

// The fewest routed tokens an expert's stages are built from by default (see above).
inline constexpr int64_t kMinExpertTokens = 32;

// One expert of a mixture-of-experts block, fp32.
struct ExpertF32 {
  std::vector<float> w_gate, w_up;  // [expert_hidden_dim, dim]
  std::vector<float> w_down;        // [dim, expert_hidden_dim]
};

// One block's tensors decoded to fp32, canonical layouts (checkpoint.h).
struct BlockF32 {
  int64_t layer = 0;                    // its index in the model (which layers use a sliding window)
  std::vector<float> attn_norm;         // [dim]
  std::vector<float> wq, wk, wv;        // [q_dim, dim], [kv_dim, dim], [kv_dim, dim]
  std::vector<float> bq, bk, bv;        // [q_dim], [kv_dim], [kv_dim] or empty
  std::vector<float> q_norm, k_norm;    // [head_dim] each, or empty (attn_qk_norm)
  std::vector<float> wo;                // [dim, q_dim]
  std::vector<float> post_attn_norm;    // [dim] or empty (post_norms: Gemma 2)
  std::vector<float> ffn_norm;          // [dim]
  std::vector<float> w_gate, w_up;      // [hidden, dim]
  std::vector<float> w_down;            // [dim, hidden]
  std::vector<float> post_ffn_norm;     // [dim] or empty
  std::vector<float> router;            // [n_experts, dim] or empty (dense)
  std::vector<ExpertF32> experts;       // the experts, w_gate/w_up/w_down empty
};

// Decodes block `layer` of the checkpoint (validated shapes assumed).
BlockF32 load_block_f32(const Checkpoint& ckpt, int64_t layer);

// The RoPE tables for positions 0..ctx-1 of a model (theta, llama3 scaling,
// GGUF rope_freqs applied): cos/sin [ctx, rope_dims/2].
struct RopeTables {
  int64_t ctx = 0, half = 0;
  std::vector<float> cos, sin;
  std::vector<float> cos_local, sin_local;  // the windowed layers' own (Gemma 3), or empty

  // The [ctx, half] rows layer `layer` of `config` rotates with.
  const float* cos_of(const ModelConfig& config, int64_t layer) const {
    return local(config, layer) ? cos_local.data() : cos.data();
  }
  const float* sin_of(const ModelConfig& config, int64_t layer) const {
    return local(config, layer) ? sin_local.data() : sin.data();
  }

 private:
  bool local(const ModelConfig& config, int64_t layer) const {
    return !cos_local.empty() && config.attention_window(layer) > 0;
  }
};
// inv_freq_local: ModelWeights::rope_inv_freq_local (may be empty).
RopeTables make_rope_tables(const std::vector<float>& inv_freq, int64_t ctx,
                            const std::vector<float>& inv_freq_local = {});
// The tables a model runs at a context of ctx tokens: LongRoPE's long
// frequencies past rope_long_above, cos/sin scaled by rope_magnitude.
RopeTables make_rope_tables(const ModelWeights& weights, int64_t ctx);

// xn [T, dim] = rmsnorm of every row of x [T, dim] with weight norm [dim].
void block_rmsnorm(float* xn, const float* x, const float* norm, int64_t tokens, int64_t dim, float eps);

// att [T, q_dim]: for every window, q/k/v = xn·Wᵀ (+ bias), q/k per-head
// norms when the block has them, RoPE, causal
// grouped-query attention. xn [T, dim]; T = n_windows · tables.ctx.
void block_attention(float* att, const float* xn, const BlockF32& block, const ModelConfig& config,
                     const RopeTables& tables, int64_t n_windows);

// act [T, hidden] = act(xn·Wgᵀ) ⊙ (xn·Wuᵀ), act the model's; xn [T, dim].
void block_ffn_act(float* act, const float* xn, const BlockF32& block, const ModelConfig& config, int64_t tokens);

// x [T, dim] += att·Woᵀ / act·Wdᵀ (the residual adds), through the post
// norm when the block has one.
void block_add_attn_output(float* x, const float* att, const BlockF32& block, const ModelConfig& config,
                           int64_t tokens);
void block_add_ffn_output(float* x, const float* act, const BlockF32& block, const ModelConfig& config,
                          int64_t tokens);

// A linear weight of a block: its name after "blk.N.", its values, the
// width of its input.
struct BlockLinear {
  std::string suffix;  // "attn_q.weight", ..., "ffn_gate_exps.3.weight"
  std::vector<float>* w;
  int64_t cols;
};

// The linears of a block in the order of its stages: q, k, v, o, gate, up,
// down (a mixture of experts: gate, up, down of each expert in turn).
std::vector<BlockLinear> block_linears(BlockF32& block, const ModelConfig& config);

// One stage of a block: the linears that share one input, that input, and
// its producer (what a per-channel scale of the input can be folded into):
//   attention input   q, k, v   xn [T, dim]      producer: attn_norm
//   attention output  o         att [T, q_dim]   producer: v's rows (+ bias), when q_dim == kv_dim
//   FFN input         gate, up  xn [T, dim]      producer: ffn_norm
//   FFN output        down      act [T, hidden]  producer: up's rows
struct BlockStage {
  const float* input = nullptr;  // [tokens, cols]
  int64_t tokens = 0, cols = 0;
  std::vector<BlockLinear> linears;
  std::vector<float>* producer_norm = nullptr;
  std::vector<float>* producer_rows = nullptr;  // [cols, producer_cols]
  int64_t producer_cols = 0;
  std::vector<float>* producer_bias = nullptr;  // [cols] or empty
  // An expert's stage: its index, the tokens routed to it (the input holds
  // every token of the block when fewer than kMinExpertTokens were).
  int64_t expert = -1;
  int64_t routed_tokens = -1;
};

// The stage iterator: runs block over x [T, dim] (n_windows windows of
// rope.ctx tokens), stage by stage, calling visit(stage) with each stage's
// input before the stage's linears are applied; visit may change those
// linears (compression), and the later stages see the change. x gets the
// attention output added, and the FFN output too when add_ffn_output (x is
// then the block's output).
// min_expert_tokens: a mixture of experts' fallback threshold (above).
void walk_block_stages(BlockF32& block, const ModelConfig& config, const RopeTables& rope, int64_t n_windows,
                       float* x, bool add_ffn_output, const std::function<void(const BlockStage&)>& visit,
                       int64_t min_expert_tokens = kMinExpertTokens);

}  // namespace lmpack
