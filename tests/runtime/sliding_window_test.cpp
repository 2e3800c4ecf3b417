// Mistral's sliding-window attention (ModelConfig::sliding_window) in the
// forward passes: with one block, the logits at a position past the window
// equal those of the window's tokens run alone from position 0 (RoPE is
// relative, so only what the window hides may change them); fast equals
// reference, a call split in chunks equals one call, positions inside the
// window match a model without one and positions past it do not; the window
// survives config.json and lmpack's GGUF (llama.attention.sliding_window).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "io/gguf.h"
#include "model/checkpoint.h"
#include "model/random_model.h"
#include "model/save_gguf.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"

namespace lmpack {
namespace {

constexpr int64_t kWindow = 8;

Checkpoint mistral(int64_t layers, const std::string& name) {
  RandomModelSpec spec;
  ModelConfig& c = spec.config;
  c.architecture = "mistral";
  c.dim = 32;
  c.hidden_dim = 64;
  c.n_layers = layers;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 8;
  c.vocab_size = 512;
  c.context_length = 64;
  c.sliding_window = kWindow;
  spec.seed = 9;
  spec.init_std = 0.3f;
  const std::string dir = testing::temp_dir() + "/" + name;
  write_random_model(spec, dir);
  return load_checkpoint(dir);
}

std::vector<int32_t> tokens(int64_t n) {
  std::mt19937 gen(3);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& v : t) v = static_cast<int32_t>(gen() % 512);
  return t;
}

// Logits of every position, `chunk` tokens per call.
std::vector<float> logits(const Checkpoint& c, const std::vector<int32_t>& t, bool reference = false,
                          size_t chunk = 0) {
  auto w = build_weights(c);
  auto f = reference ? make_reference_forward(w, 64) : make_fast_forward(w, 64);
  const size_t vocab = static_cast<size_t>(c.config.vocab_size);
  std::vector<float> out(t.size() * vocab);
  if (chunk == 0) chunk = t.size();
  for (size_t s = 0; s < t.size(); s += chunk) {
    const size_t n = std::min(chunk, t.size() - s);
    f->forward(t.data() + s, static_cast<int64_t>(n), out.data() + s * vocab);
  }
  return out;
}

float max_diff(const float* a, const float* b, size_t n) {
  float m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(SlidingWindow, OneBlockSeesOnlyTheWindow) {
  const Checkpoint c = mistral(1, "mistral_window_1");
  ASSERT_EQ(c.config.sliding_window, kWindow);
  const std::vector<int32_t> t = tokens(30);
  const std::vector<float> all = logits(c, t);
  const size_t vocab = 512;
  for (int64_t p = kWindow; p < 30; p += 5) {
    const std::vector<int32_t> window(t.begin() + (p - kWindow + 1), t.begin() + p + 1);
    const std::vector<float> alone = logits(c, window);
    EXPECT_LT(max_diff(all.data() + p * vocab, alone.data() + (kWindow - 1) * vocab, vocab), 1e-3f) << p;
  }
}

TEST(SlidingWindow, FastReferenceChunksAndTheModelWithoutIt) {
  const Checkpoint c = mistral(2, "mistral_window_2");
  const std::vector<int32_t> t = tokens(40);
  const size_t vocab = 512;
  const std::vector<float> fast = logits(c, t), ref = logits(c, t, true), chunked = logits(c, t, false, 7);
  float peak = 0;
  for (float v : ref) peak = std::max(peak, std::fabs(v));
  EXPECT_GT(peak, 2.0f);
  EXPECT_LT(max_diff(fast.data(), ref.data(), fast.size()), 1e-4f * peak);
  EXPECT_LT(max_diff(fast.data(), chunked.data(), fast.size()), 1e-4f * peak);

  Checkpoint full = c;
  full.config.sliding_window = 0;
  const std::vector<float> no_window = logits(full, t);
  EXPECT_LT(max_diff(fast.data(), no_window.data(), kWindow * vocab), 1e-4f * peak) << "inside the window";
  EXPECT_GT(max_diff(fast.data() + kWindow * vocab, no_window.data() + kWindow * vocab, (40 - kWindow) * vocab),
            1e-2f * peak)
      << "past the window";
}

TEST(SlidingWindow, KeptByConfigJsonAndLmpacksGguf) {
  LMPACK_REQUIRE_SHARED();  // the GGUF needs a vocabulary: tok512
  mistral(2, "mistral_window_3");
  const std::string dir = testing::temp_dir() + "/mistral_window_3";
  std::ifstream in(dir + "/config.json");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("\"sliding_window\": 8"), std::string::npos) << text.str();
  LoadOptions o;
  o.tokenizer_path = testing::shared_path("models/stories260K/tok512.bin");
  const Checkpoint c = load_checkpoint(dir, o);
  const std::string path = dir + ".gguf";
  save_gguf(c, path, DType::F32);
  EXPECT_EQ(read_gguf(path).get_int("llama.attention.sliding_window"), kWindow);
  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.config.architecture, "mistral");
  EXPECT_EQ(back.config.sliding_window, kWindow);
  const std::vector<int32_t> t = tokens(20);
  const std::vector<float> a = logits(c, t), b = logits(back, t);
  EXPECT_EQ(max_diff(a.data(), b.data(), a.size()), 0.0f);
}

}  // namespace
}  // namespace lmpack
