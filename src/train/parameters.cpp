// ParameterLayout, trainable_from_checkpoint, checkpoint_from_trainable; see parameters.h.
#include "train/parameters.h"

#include <algorithm>

#include "core/error.h"
#include "formats/decode.h"
#include "model/tensor_names.h"
#include "runtime/weights.h"

namespace lmpack {

ParameterLayout::ParameterLayout(const ModelConfig& config) : config_(config) {
  config.validate("config");
  if (const std::string why = config.untrainable_reason(); !why.empty())
    throw Error(config.architecture, cat("training is not supported for models with ", why,
                                         ": the training pass has no backward for them yet"));
  for (TensorShape& t : model_tensor_shapes(config)) {
    ParameterTensor p;
    p.name = std::move(t.name);
    p.size = 1;
    for (int64_t n : t.shape) p.size *= static_cast<size_t>(n);
    p.shape = std::move(t.shape);
    p.offset = size_;
    size_ += p.size;
    tensors_.push_back(std::move(p));
  }
}

const ParameterTensor* ParameterLayout::find(const std::string& name) const {
  for (const ParameterTensor& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {

template <typename F>
ModelTensors<F> view_of(const ParameterLayout& layout, F* base) {
  auto at = [&](const std::string& name) -> F* {
    const ParameterTensor* t = layout.find(name);
    return t == nullptr ? nullptr : base + t->offset;
  };
  const ModelConfig& c = layout.config();
  ModelTensors<F> m;
  m.token_embd = at("token_embd.weight");
  m.output_norm = at("output_norm.weight");
  m.output = c.tied_embeddings ? m.token_embd : at("output.weight");
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = cat("blk.", l, ".");
    m.layers.push_back({at(p + "attn_norm.weight"), at(p + "attn_q.weight"), at(p + "attn_k.weight"),
                        at(p + "attn_v.weight"), at(p + "attn_q.bias"), at(p + "attn_k.bias"), at(p + "attn_v.bias"),
                        at(p + "attn_output.weight"), at(p + "ffn_norm.weight"), at(p + "ffn_gate.weight"),
                        at(p + "ffn_up.weight"), at(p + "ffn_down.weight")});
  }
  return m;
}

}  // namespace

ModelTensors<float> ParameterLayout::view(float* buffer) const { return view_of(*this, buffer); }
ModelTensors<const float> ParameterLayout::view(const float* buffer) const { return view_of(*this, buffer); }

TrainableModel trainable_from_checkpoint(const Checkpoint& checkpoint) {
  // build_weights validates the checkpoint and works out the RoPE frequencies
  // (theta, llama3 scaling, rope_freqs.weight) exactly as inference will.
  const std::shared_ptr<const ModelWeights> weights = build_weights(checkpoint);
  TrainableModel model{ParameterLayout(checkpoint.config), {}, weights->rope_inv_freq, checkpoint.path};
  model.values.resize(model.layout.size());
  for (const ParameterTensor& p : model.layout.tensors()) {
    const TensorInfo& t = checkpoint.tensor(p.name);
    decode_to_f32(model.values.data() + p.offset, t.data, t.dtype, static_cast<int64_t>(p.size));
  }
  return model;
}

Checkpoint checkpoint_from_trainable(const TrainableModel& model, const Checkpoint& like) {
  Checkpoint out;
  out.path = like.path;
  out.format = like.format;
  out.config = model.layout.config();
  out.vocab = like.vocab;
  out.recipe = like.recipe;
  for (const ParameterTensor& p : model.layout.tensors()) {
    const float* v = model.values.data() + p.offset;
    out.set_f32(p.name, p.shape, std::vector<float>(v, v + p.size));
  }
  // Not a parameter, but part of the model: llama.cpp's per-pair RoPE divisors.
  if (const TensorInfo* t = like.find("rope_freqs.weight")) {
    std::vector<float> v(static_cast<size_t>(t->n_elements()));
    decode_to_f32(v.data(), t->data, t->dtype, t->n_elements());
    out.set_f32(t->name, t->shape, std::move(v));
  }
  return out;
}

}  // namespace lmpack
