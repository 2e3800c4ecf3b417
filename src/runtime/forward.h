// The Llama-family forward pass in fp32: RMSNorm, RoPE (adjacent pairs,
// optional llama3 frequency scaling), grouped-query causal attention,
// SwiGLU FFN, tied or separate output.
//
// Two implementations with one contract:
//   ReferenceForward  llama2.c run.c style, one token at a time, plain loops;
//                     the oracle in tests. Single-threaded.
//   Forward           the fast path: whole sequences through GEMMs on all
//                     threads (oneDNN sgemm), attention parallel over heads,
//                     and a KV cache for generation.
// Both keep a KV cache: positions continue from the previous call until reset().
//
// An optional LinearInputObserver sees the input rows of every linear layer
// (for importance matrices, calibration statistics), and an optional
// BlockOutputObserver the residual stream after every block (for
// hidden-state distillation). Only the fast forward reports to them; the
// reference forward ignores them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/weights.h"

namespace lmpack {

// Called, on the thread that called forward(), with the fp32 input x [m, cols]
// (row-major) of each linear layer just before it is multiplied. tensor_name is
// the GGUF name of the weight that consumes it; matrices sharing an input are
// each reported (blk.N.attn_q/attn_k/attn_v.weight, blk.N.ffn_gate/ffn_up.weight),
// as llama.cpp's imatrix does. The rest: blk.N.attn_output.weight,
// blk.N.ffn_down.weight and output.weight (token_embd.weight when the
// embeddings are tied), the latter only for the rows whose logits are computed.
struct LinearInputObserver {
  virtual ~LinearInputObserver() = default;
  virtual void observe(const std::string& tensor_name, const float* x, int64_t m, int64_t cols) = 0;
};

// Called, on the thread that called forward(), with the residual stream
// x [m, dim] after block `layer` for the tokens at positions first_pos ..
// first_pos + m - 1 (a long call reports in chunks).
struct BlockOutputObserver {
  virtual ~BlockOutputObserver() = default;
  virtual void observe(int64_t layer, int64_t first_pos, const float* x, int64_t m, int64_t dim) = 0;
};

class ForwardPass {
 public:
  virtual ~ForwardPass() = default;
  // Appends n tokens at positions pos()..pos()+n-1 and writes logits
  // [n, vocab] for each (or only the last row when last_only). Throws
  // Error("context", ...) when pos()+n exceeds max_context().
  virtual void forward(const int32_t* tokens, int64_t n, float* logits, bool last_only = false) = 0;
  virtual void reset() = 0;  // drop the KV cache, back to position 0
  virtual int64_t pos() const = 0;
  virtual int64_t max_context() const = 0;
  const ModelConfig& config() const { return weights_->config; }
  const ModelWeights& weights() const { return *weights_; }
  // nullptr: none (the default). Not owned; must outlive the forward calls.
  void set_observer(LinearInputObserver* observer) { observer_ = observer; }
  void set_block_output_observer(BlockOutputObserver* observer) { block_observer_ = observer; }

 protected:
  explicit ForwardPass(std::shared_ptr<const ModelWeights> w) : weights_(std::move(w)) {}
  std::shared_ptr<const ModelWeights> weights_;
  LinearInputObserver* observer_ = nullptr;
  BlockOutputObserver* block_observer_ = nullptr;
};

// max_context: KV cache length (<= 0: the model's context_length).
std::unique_ptr<ForwardPass> make_reference_forward(std::shared_ptr<const ModelWeights> weights,
                                                    int64_t max_context = 0);
std::unique_ptr<ForwardPass> make_fast_forward(std::shared_ptr<const ModelWeights> weights,
                                               int64_t max_context = 0);

}  // namespace lmpack
