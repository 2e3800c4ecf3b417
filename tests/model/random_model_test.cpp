#include "model/random_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "io/safetensors.h"
#include "model/load_hf.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

ModelConfig small_config(const std::string& arch) {
  ModelConfig c;
  c.architecture = arch;
  c.dim = 64;
  c.hidden_dim = 160;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 16;
  c.vocab_size = 3000;  // token_embd spans several PRNG chunks
  c.context_length = 256;
  c.rms_eps = 1e-6f;
  c.rope_theta = 10000.0f;
  c.tied_embeddings = arch == "qwen2";
  c.attn_qkv_bias = arch == "qwen2";
  return c;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

float value_at(const TensorInfo& t, int64_t i) {
  if (t.dtype == DType::F32) {
    float f;
    std::memcpy(&f, t.data + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, t.data + 2 * i, 2);
  return t.dtype == DType::F16 ? fp16_to_f32(h) : bf16_to_f32(h);
}

TEST(RandomModel, LlamaShapesConfigAndValues) {
  RandomModelSpec spec;
  spec.config = small_config("llama");
  spec.seed = 42;
  const std::string dir = testing::temp_dir() + "/random_llama";
  fs::remove_all(dir);
  write_random_model(spec, dir);

  Checkpoint ckpt = load_hf_checkpoint(dir);
  const ModelConfig& c = ckpt.config;
  EXPECT_EQ(c.architecture, "llama");
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 160);
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.vocab_size, 3000);
  EXPECT_EQ(c.context_length, 256);
  EXPECT_EQ(c.rms_eps, 1e-6f);
  EXPECT_FALSE(c.tied_embeddings);
  EXPECT_EQ(ckpt.tensors.size(), 3u + 2 * 9);
  EXPECT_EQ(ckpt.tensors.at("token_embd.weight").shape, (std::vector<int64_t>{3000, 64}));
  EXPECT_EQ(ckpt.tensors.at("output.weight").shape, (std::vector<int64_t>{3000, 64}));
  EXPECT_EQ(ckpt.tensors.at("blk.1.attn_q.weight").shape, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(ckpt.tensors.at("blk.1.attn_k.weight").shape, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(ckpt.tensors.at("blk.0.ffn_down.weight").shape, (std::vector<int64_t>{64, 160}));
  EXPECT_EQ(ckpt.tensors.at("blk.0.ffn_gate.weight").shape, (std::vector<int64_t>{160, 64}));

  // Norms are exactly 1.
  for (const char* n : {"output_norm.weight", "blk.0.attn_norm.weight", "blk.1.ffn_norm.weight"}) {
    const TensorInfo& t = ckpt.tensors.at(n);
    for (int64_t i = 0; i < t.n_elements(); ++i) ASSERT_EQ(value_at(t, i), 1.0f) << n;
  }
  // Matrices: the documented values, with std about 0.02 and mean about 0.
  SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  const TensorInfo* embd = st.find("model.embed_tokens.weight");
  ASSERT_NE(embd, nullptr);
  double sum = 0, sum2 = 0, amax = 0;
  for (int64_t i = 0; i < embd->n_elements(); ++i) {
    const double v = value_at(*embd, i);
    sum += v;
    sum2 += v * v;
    amax = std::max(amax, std::abs(v));
  }
  const double n = static_cast<double>(embd->n_elements());
  EXPECT_NEAR(sum / n, 0.0, 0.001);
  EXPECT_NEAR(std::sqrt(sum2 / n), 0.02, 0.0005);
  EXPECT_LE(amax, 0.02 * std::sqrt(3.0) + 1e-6);
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{65535}, int64_t{65536}, int64_t{191999}})
    EXPECT_EQ(value_at(*embd, i), random_model_value(42, "model.embed_tokens.weight", i)) << i;
  // Different tensors draw different numbers.
  const TensorInfo* head = st.find("lm_head.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_NE(std::memcmp(head->data, embd->data, 64), 0);
}

TEST(RandomModel, DeterministicBySeedAndThreadCount) {
  RandomModelSpec spec;
  spec.config = small_config("llama");
  spec.seed = 7;
  const std::string base = testing::temp_dir() + "/random_det";
  write_random_model(spec, base + "_a");
  const int threads = num_threads();
  set_num_threads(1);
  write_random_model(spec, base + "_b");
  set_num_threads(threads);
  spec.seed = 8;
  write_random_model(spec, base + "_c");
  const auto a = read_all(base + "_a/model.safetensors");
  const auto b = read_all(base + "_b/model.safetensors");
  const auto c = read_all(base + "_c/model.safetensors");
  EXPECT_GT(a.size(), 500000u);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), c.size());
  EXPECT_NE(a, c);
  EXPECT_EQ(read_all(base + "_a/config.json"), read_all(base + "_c/config.json"));
}

TEST(RandomModel, Qwen2Bf16WithBiasesAndTiedEmbeddings) {
  RandomModelSpec spec;
  spec.config = small_config("qwen2");
  spec.dtype = DType::BF16;
  spec.seed = 3;
  const std::string dir = testing::temp_dir() + "/random_qwen2";
  write_random_model(spec, dir);
  Checkpoint ckpt = load_hf_checkpoint(dir);
  EXPECT_EQ(ckpt.config.architecture, "qwen2");
  EXPECT_TRUE(ckpt.config.attn_qkv_bias);
  EXPECT_TRUE(ckpt.config.tied_embeddings);
  EXPECT_EQ(ckpt.tensors.count("output.weight"), 0u);
  EXPECT_EQ(ckpt.tensors.size(), 2u + 2 * 12);
  const TensorInfo& bq = ckpt.tensors.at("blk.0.attn_q.bias");
  EXPECT_EQ(bq.shape, (std::vector<int64_t>{64}));
  EXPECT_EQ(bq.dtype, DType::BF16);
  EXPECT_EQ(ckpt.tensors.at("blk.1.attn_v.bias").shape, (std::vector<int64_t>{32}));
  SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  const TensorInfo* up = st.find("model.layers.1.mlp.up_proj.weight");
  ASSERT_NE(up, nullptr);
  for (int64_t i = 0; i < 100; ++i)
    EXPECT_EQ(value_at(*up, i),
              bf16_to_f32(f32_to_bf16(random_model_value(3, "model.layers.1.mlp.up_proj.weight", i))));
}

TEST(RandomModel, RefusesBadSpecs) {
  RandomModelSpec spec;
  spec.config = small_config("llama");
  spec.config.n_kv_heads = 3;
  const std::string dir = testing::temp_dir() + "/random_bad";
  EXPECT_THROW(write_random_model(spec, dir), Error);
  spec.config = small_config("llama");
  spec.dtype = DType::Q8_0;
  EXPECT_THROW(write_random_model(spec, dir), Error);
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace lmpack
