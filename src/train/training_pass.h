// The forward and backward pass of training: a batch of token sequences,
// each from position 0, through the same Llama block as the runtime
// (runtime/forward.h: RMSNorm, RoPE on adjacent pairs, grouped-query causal
// attention, SwiGLU, tied or separate output), in fp32, keeping what the
// backward needs.
//
// forward() writes logits [batch * seq, vocab] (row b * seq + t is token t of
// sequence b); backward() takes d loss / d logits of the same shape and adds
// d loss / d parameter into a gradient buffer laid out as the parameters
// (train/parameters.h). Activations kept per block: its input, the two
// normed inputs, q and k after RoPE, v, the attention output, the FFN's gate
// and up: (4 dim + 2 q_dim + 2 kv_dim + 2 hidden) floats per token per block.
// The softmax of attention is recomputed in the backward, not kept.
//
// A memory bound (activation recomputation, Chen et al. 2016, "Training Deep
// Nets with Sublinear Memory Cost"): given `activation_budget` bytes, the pass
// keeps every block's input but the inner activations of only as many blocks
// as the budget holds (the first ones); the other blocks share one set, and
// the backward recomputes a block's forward into it from the block's input
// just before it goes back through that block. The gradients are the same
// bits either way (the recomputation runs the same kernels on the same input);
// the price is up to one more forward of the recomputed blocks.
//
// Two kernel sets, one orchestration: kFast runs the linear layers through
// oneDNN GEMMs and rows, heads and sequences on the OpenMP team; kReference
// runs the plain-loop kernels (*_reference) on one thread, the oracle that
// the fast path is tested against (tests/train/training_pass_test.cpp), as
// the reference forward is for inference. Finite differences check both.
#pragma once

#include <cstdint>
#include <vector>

#include "train/parameters.h"

namespace lmpack {

enum class TrainKernels { kFast, kReference };

class TrainingPass {
 public:
  // The model must outlive the pass; forward() reads model.values as they
  // are at the call (an optimizer changes them between steps).
  // activation_budget: bytes the pass may hold (activation_bytes()); 0: no
  // bound (nothing is recomputed). Throws Error("activation_memory", ...)
  // when even one block's set (with every block's input) does not fit.
  TrainingPass(const TrainableModel& model, int64_t batch, int64_t seq, TrainKernels kernels = TrainKernels::kFast,
               size_t activation_budget = 0);

  // tokens: [batch, seq] ids in [0, vocab); logits: [batch * seq, vocab] out.
  // Throws Error("tokens", ...) for an id outside the vocabulary.
  void forward(const int32_t* tokens, float* logits);
  // dlogits: [batch * seq, vocab]; grads: [layout.size()], accumulated.
  // Uses the activations of the last forward() (same model values).
  // block_output_grads (may be null, or hold nulls): per block, a further
  // d loss / d (the block's output) [batch * seq, dim] added on the way
  // down, for losses on the residual stream (hidden-state matching).
  void backward(const float* dlogits, float* grads, const std::vector<const float*>* block_output_grads = nullptr);
  // The residual stream after block l of the last forward(): [batch * seq, dim].
  const float* block_output(int64_t l) const;

  int64_t batch() const { return batch_; }
  int64_t seq() const { return seq_; }
  // Bytes of activations and scratch this pass holds.
  size_t activation_bytes() const;
  // Blocks whose activations the backward recomputes (0 without a bound).
  int64_t recomputed_blocks() const;
  // What the pass holds, in bytes, for this shape: with every block's
  // activations kept, and the least a bound can bring it to (one block's set).
  static size_t activation_bytes_for(const ModelConfig& config, int64_t batch, int64_t seq, bool all_blocks);

 private:
  // The inner activations of a block (its input is kept apart: inputs_).
  struct BlockActivations {
    std::vector<float> xn1;    // [rows, dim] rmsnorm(x) * attn_norm
    std::vector<float> q;      // [rows, q_dim] after RoPE
    std::vector<float> k, v;   // [rows, kv_dim], k after RoPE
    std::vector<float> att;    // [rows, q_dim] attention output (input of attn_output)
    std::vector<float> x_mid;  // [rows, dim] x + attention
    std::vector<float> xn2;    // [rows, dim] rmsnorm(x_mid) * ffn_norm
    std::vector<float> gate, up;  // [rows, hidden] before silu(gate) * up
  };

  // The block's forward from its input x into a; writes its output into
  // `out` [rows, dim] unless null (a recomputation needs only a).
  void block_forward(int64_t l, const float* x, BlockActivations& a, float* out);
  // The set that holds block l's activations.
  BlockActivations& activations_of(int64_t l);
  void attention_forward(BlockActivations& a);
  void attention_backward(const BlockActivations& a, const float* datt, float* dq, float* dk, float* dv);

  const TrainableModel& model_;
  int64_t batch_, seq_, rows_;
  TrainKernels kernels_;
  std::vector<int32_t> tokens_;         // [rows] of the last forward
  std::vector<float> rope_cos_, rope_sin_;  // [seq, head_dim/2]
  std::vector<std::vector<float>> inputs_;  // [n_layers][rows, dim] each block's input (residual stream)
  // The first kept_ blocks' own sets, then (when kept_ < n_layers) the one
  // set the other blocks share; it holds block work_holds_'s (-1: none).
  std::vector<BlockActivations> blocks_;
  int64_t kept_ = 0, work_holds_ = -1;
  std::vector<float> x_final_;          // [rows, dim] input of output_norm
  std::vector<float> xn_final_;         // [rows, dim] rmsnorm(x_final) * output_norm
  std::vector<float> scratch_;          // per thread: attention scores [2 seq]
  // backward's buffers, kept between steps
  std::vector<float> dx_, dx_mid_, dxn_;       // [rows, dim]
  std::vector<float> h_, dgate_, dup_;         // [rows, hidden]
  std::vector<float> datt_, dq_;               // [rows, q_dim]
  std::vector<float> dk_, dv_;                 // [rows, kv_dim]
  std::vector<float> norm_partials_;           // [threads, dim] per-thread RMSNorm weight gradients
};

}  // namespace lmpack
