// Helpers for the architecture tests (qwen3, gemma2, gemma3, phi3, smollm3):
// their common small shape, a random model folder made once per test binary, logits of a fixed token
// sequence through either forward pass, and comparisons of logits and of
// safetensors files of F32 tensors.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/random_model.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"

namespace lmpack::testing {

// The shape every architecture test starts from: dim 64, FFN 96, 4 heads of
// head_dim over 2 KV heads, 512 tokens, context 128, tied, rms_eps 1e-6.
inline ModelConfig small_arch_config(const std::string& architecture, int64_t head_dim, int64_t n_layers = 2) {
  ModelConfig c;
  c.architecture = architecture;
  c.dim = 64;
  c.hidden_dim = 96;
  c.n_layers = n_layers;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = head_dim;
  c.vocab_size = 512;
  c.context_length = 128;
  c.rms_eps = 1e-6f;
  c.tied_embeddings = true;
  return c;
}

// temp_dir()/name, written by write_random_model with matrices of standard
// deviation 0.3 (peaked outputs: every op shows in the logits).
inline std::string random_model_folder(const std::string& name, const ModelConfig& config, uint64_t seed) {
  const std::string dir = temp_dir() + "/" + name;
  RandomModelSpec spec;
  spec.config = config;
  spec.seed = seed;
  spec.init_std = 0.3f;
  write_random_model(spec, dir);
  return dir;
}

// The folder's model with stories260K's tok512 vocabulary (a GGUF needs one).
inline Checkpoint load_with_tok512(const std::string& dir) {
  LoadOptions o;
  o.tokenizer_path = shared_path("models/stories260K/tok512.bin");
  return load_checkpoint(dir, o);
}

// Logits of 40 tokens drawn with `seed` (the first one BOS), every position.
inline std::vector<float> logits_of(const Checkpoint& c, bool reference = false, uint32_t seed = 5) {
  auto w = build_weights(c);
  auto f = reference ? make_reference_forward(w, 64) : make_fast_forward(w, 64);
  std::mt19937 gen(seed);
  std::vector<int32_t> t(40);
  for (auto& v : t) v = static_cast<int32_t>(gen() % static_cast<uint32_t>(c.config.vocab_size));
  t[0] = 1;
  std::vector<float> out(t.size() * static_cast<size_t>(c.config.vocab_size));
  f->forward(t.data(), static_cast<int64_t>(t.size()), out.data());
  return out;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return a.size() == b.size() ? m : INFINITY;
}

inline float max_abs(const std::vector<float>& a) {
  float m = 0;
  for (float v : a) m = std::max(m, std::fabs(v));
  return m;
}

inline std::vector<float> f32_values(const TensorInfo& t) {
  EXPECT_EQ(t.dtype, DType::F32) << t.name;
  std::vector<float> v(t.nbytes / sizeof(float));
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  return v;
}

inline void expect_same_safetensors(const std::string& a_path, const std::string& b_path) {
  const SafetensorsFile a = read_safetensors(a_path);
  const SafetensorsFile b = read_safetensors(b_path);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const TensorInfo& t : a.tensors) {
    const TensorInfo* u = b.find(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(f32_values(*u), f32_values(t)) << t.name;
  }
}

}  // namespace lmpack::testing
