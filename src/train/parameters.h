// A Llama-family model's parameters as training holds them: every tensor in
// fp32, back to back in one buffer, so that gradients, optimizer moments and
// a checkpoint's state are buffers of the same layout, and an optimizer step
// or a gradient norm is one loop over one array.
//
// The layout lists the tensors by canonical name in model_tensor_shapes'
// order (model/tensor_names.h: the same list validate_checkpoint checks);
// output is absent when tied (the embedding is the output head, and its
// gradient gathers both uses).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/checkpoint.h"

namespace lmpack {

struct ParameterTensor {
  std::string name;            // canonical ("blk.3.attn_q.weight")
  std::vector<int64_t> shape;  // {rows, cols} or {n}
  size_t offset = 0;           // in floats, into the buffer
  size_t size = 0;             // elements
};

// Pointers into one buffer laid out by a ParameterLayout (the values, the
// gradients or an optimizer moment). Shapes as in runtime/weights.h.
template <typename F>
struct LayerTensors {
  F* attn_norm;  // [dim]
  F* wq;         // [q_dim, dim]
  F* wk;         // [kv_dim, dim]
  F* wv;         // [kv_dim, dim]
  F* bq;         // [q_dim] or nullptr
  F* bk;         // [kv_dim] or nullptr
  F* bv;         // [kv_dim] or nullptr
  F* wo;         // [dim, q_dim]
  F* ffn_norm;   // [dim]
  F* w_gate;     // [hidden_dim, dim]
  F* w_up;       // [hidden_dim, dim]
  F* w_down;     // [dim, hidden_dim]
};

template <typename F>
struct ModelTensors {
  F* token_embd;   // [vocab, dim]
  F* output_norm;  // [dim]
  F* output;       // [vocab, dim]; == token_embd when tied
  std::vector<LayerTensors<F>> layers;
};

class ParameterLayout {
 public:
  // Throws Error("config", ...) through ModelConfig::validate.
  explicit ParameterLayout(const ModelConfig& config);
  const ModelConfig& config() const { return config_; }
  const std::vector<ParameterTensor>& tensors() const { return tensors_; }
  size_t size() const { return size_; }  // floats in a buffer
  // The tensor of that name, or nullptr.
  const ParameterTensor* find(const std::string& name) const;
  ModelTensors<float> view(float* buffer) const;
  ModelTensors<const float> view(const float* buffer) const;

 private:
  ModelConfig config_;
  std::vector<ParameterTensor> tensors_;
  size_t size_ = 0;
};

struct TrainableModel {
  ParameterLayout layout;
  std::vector<float> values;         // [layout.size()]
  std::vector<float> rope_inv_freq;  // [head_dim/2], as the runtime computes it (runtime/weights.h)
  std::string source;                // the checkpoint's path ("" when made here)
};

// Every tensor of the checkpoint decoded to fp32 (any stored type: a
// quantized model trains from its dequantized weights). Tensors that are not
// parameters (rope_freqs.weight) shape rope_inv_freq only. Throws Error(path,
// ...) as build_weights does.
TrainableModel trainable_from_checkpoint(const Checkpoint& checkpoint);

// A checkpoint of fp32 tensors holding the model's current values (its own
// copies), ready for the writers (model/save_gguf.h, model/save_hf.h).
Checkpoint checkpoint_from_trainable(const TrainableModel& model, const Checkpoint& like);

}  // namespace lmpack
