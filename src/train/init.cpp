#include "train/init.h"

#include <cmath>
#include <random>

#include "kernels/ops.h"

namespace lmpack {
namespace {

uint32_t fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace

TrainableModel init_trainable(const ModelConfig& config, uint64_t seed) {
  TrainableModel m{ParameterLayout(config), {}, std::vector<float>(static_cast<size_t>(config.head_dim / 2)), ""};
  rope_inv_freq(m.rope_inv_freq.data(), config.head_dim, config.rope_theta);
  m.values.assign(m.layout.size(), 0.0f);
  const float residual = 0.02f / std::sqrt(2.0f * static_cast<float>(config.n_layers));
  for (const ParameterTensor& t : m.layout.tensors()) {
    float* v = m.values.data() + t.offset;
    if (t.name.ends_with("norm.weight")) {
      std::fill(v, v + t.size, 1.0f);
      continue;
    }
    if (t.shape.size() != 2) continue;  // biases stay 0
    // One generator per tensor, seeded by its name: adding a tensor to the
    // layout does not change the others.
    std::seed_seq s{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    fnv1a(t.name)};
    std::mt19937_64 gen(s);
    const bool into_residual = t.name.ends_with("attn_output.weight") || t.name.ends_with("ffn_down.weight");
    std::normal_distribution<float> normal(0.0f, into_residual ? residual : 0.02f);
    for (size_t i = 0; i < t.size; ++i) v[i] = normal(gen);
  }
  return m;
}

}  // namespace lmpack
