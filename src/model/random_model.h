// Random Llama-shaped models written as Hugging Face folders, for tests and
// benchmarks at sizes no real fixture has (a 7B layer, a 32k vocabulary).
//
// Norm weights are 1, except the per-head q/k norms (Qwen3) and every norm of
// a Gemma 2 (stored as scale - 1), which are uniform in [0.5, 1.5) so that
// their element order and offset are exercised; every
// matrix and bias is uniform in [-a, a) with a = init_std * sqrt(3) (by
// default standard deviation 0.02, as HF's initializer_range; a larger one
// gives peaked output distributions, which make logit comparisons between
// implementations sensitive to every op).
// Values depend only on the seed, the tensor's name and the position, never on
// the thread count. Tensors are generated chunk by chunk straight into the
// streaming safetensors writer, so memory stays at a few MB whatever the size.
// The folder appears whole or not at all (core/atomic_folder.h).
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "model/config.h"

namespace lmpack {

struct RandomModelSpec {
  ModelConfig config;  // validated; architecture llama, mistral, qwen2, qwen3 or gemma2
  DType dtype = DType::F32;  // F32, F16 or BF16
  uint64_t seed = 1;
  float init_std = 0.02f;  // standard deviation of matrices and biases
};

// The benchmarks' scale model: n_layers blocks with Llama-7B layer shapes
// (hidden 4096, FFN 11008, 32 heads, head_dim 128, vocab 32000, untied).
ModelConfig llama7b_shaped_config(int64_t n_layers = 2);

// Writes out_dir/config.json and out_dir/model.safetensors (creating out_dir).
// Throws Error(out_dir, ...) for an invalid config or dtype.
void write_random_model(const RandomModelSpec& spec, const std::string& out_dir);

// The value at `index` of the tensor with the given HF name, before rounding
// to the output dtype, at init_std 0.02 (for tests; norm weights other than
// the q/k norms are 1 and not drawn).
float random_model_value(uint64_t seed, const std::string& hf_name, int64_t index);

}  // namespace lmpack
