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
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/weights.h"

namespace lmpack {

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

 protected:
  explicit ForwardPass(std::shared_ptr<const ModelWeights> w) : weights_(std::move(w)) {}
  std::shared_ptr<const ModelWeights> weights_;
};

// max_context: KV cache length (<= 0: the model's context_length).
std::unique_ptr<ForwardPass> make_reference_forward(std::shared_ptr<const ModelWeights> weights,
                                                    int64_t max_context = 0);
std::unique_ptr<ForwardPass> make_fast_forward(std::shared_ptr<const ModelWeights> weights,
                                               int64_t max_context = 0);

}  // namespace lmpack
