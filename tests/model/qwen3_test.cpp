// Qwen3 (issue 12): per-head q/k RMSNorm before RoPE, head_dim apart from
// hidden / heads, no biases, rotate-half RoPE in the files. A random Qwen3
// written as Hugging Face safetensors must run the same from that folder,
// from the GGUF lmpack writes of it (llama.cpp's qwen3 names and row order),
// and from the folder save_hf writes back; the q/k norms must reach the files
// exactly as Hugging Face stores them, and must matter to the logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/random_model.h"
#include "model/save_gguf.h"
#include "model/save_hf.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "arch_test_util.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::max_abs;
using testing::max_abs_diff;

std::vector<float> logits_of(const Checkpoint& c, bool reference = false) {
  return testing::logits_of(c, reference, 5);
}

ModelConfig qwen3_config() {
  ModelConfig c = testing::small_arch_config("qwen3", 32);  // q_dim 128 != dim, as in real Qwen3 models
  c.attn_qk_norm = true;
  c.rope_theta = 1000000.0f;
  return c;
}

// The folder of a random Qwen3 (written once per test binary).
const std::string& qwen3_folder() {
  static const std::string dir = testing::random_model_folder("random_qwen3", qwen3_config(), 7);
  return dir;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

LoadOptions with_tok512() {
  LoadOptions o;
  o.tokenizer_path = testing::shared_path("models/stories260K/tok512.bin");
  return o;
}

TEST(Qwen3, HfFolderLoadsWithQkNormsAndRunsFastAsReference) {
  const Checkpoint c = load_checkpoint(qwen3_folder());
  EXPECT_EQ(c.config.architecture, "qwen3");
  EXPECT_TRUE(c.config.attn_qk_norm);
  EXPECT_FALSE(c.config.attn_qkv_bias);
  EXPECT_EQ(c.config.head_dim, 32);
  ASSERT_NE(c.find("blk.1.attn_q_norm.weight"), nullptr);
  ASSERT_NE(c.find("blk.1.attn_k_norm.weight"), nullptr);
  const std::string config = read_text(qwen3_folder() + "/config.json");
  EXPECT_NE(config.find("\"Qwen3ForCausalLM\""), std::string::npos) << config;
  EXPECT_NE(config.find("\"head_dim\": 32"), std::string::npos) << config;

  const std::vector<float> fast = logits_of(c), ref = logits_of(c, /*reference=*/true);
  EXPECT_GT(max_abs(ref), 2.0f) << "the random model's logits should be peaked";
  EXPECT_LT(max_abs_diff(fast, ref), 1e-4f * max_abs(ref));

  // The norms act: the same model with every q/k norm weight 1 differs.
  Checkpoint ones = c;
  for (int64_t l = 0; l < c.config.n_layers; ++l)
    for (const char* n : {"attn_q_norm.weight", "attn_k_norm.weight"})
      ones.set_f32(cat("blk.", l, ".", n), {32}, std::vector<float>(32, 1.0f));
  EXPECT_GT(max_abs_diff(logits_of(ones), fast), 0.05f * max_abs(ref));

  // And their element order matters (the RoPE layout of one head): reversed
  // norms give other logits, so the layout tests below can fail.
  Checkpoint reversed = c;
  for (int64_t l = 0; l < c.config.n_layers; ++l)
    for (const char* n : {"attn_q_norm.weight", "attn_k_norm.weight"}) {
      std::vector<float> v = testing::f32_values(c.tensor(cat("blk.", l, ".", n)));
      std::reverse(v.begin(), v.end());
      reversed.set_f32(cat("blk.", l, ".", n), {32}, v);
    }
  EXPECT_GT(max_abs_diff(logits_of(reversed), fast), 0.05f * max_abs(ref));
}

TEST(Qwen3, GgufHasLlamaCppsNamesAndRowOrderAndTheSameLogits) {
  LMPACK_REQUIRE_SHARED();  // the GGUF needs a vocabulary: stories260K's tok512.bin
  const Checkpoint hf = load_checkpoint(qwen3_folder(), with_tok512());
  const std::string path = testing::temp_dir() + "/random_qwen3.gguf";
  save_gguf(hf, path, DType::F32);

  const GgufFile g = read_gguf(path);
  EXPECT_EQ(g.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(g.get_int("qwen3.attention.key_length"), 32);
  EXPECT_EQ(g.get_int("qwen3.attention.head_count_kv"), 2);
  // q/k rows and norms as Hugging Face stores them (llama.cpp's converter
  // copies them unpermuted and runs NEOX RoPE).
  const SafetensorsFile st = read_safetensors(qwen3_folder() + "/model.safetensors");
  auto gguf_tensor = [&](const std::string& name) -> const TensorInfo& {
    for (const TensorInfo& t : g.tensors)
      if (t.name == name) return t;
    throw Error(path, "no tensor " + name);
  };
  for (const auto& [gguf_name, hf_name] :
       std::vector<std::pair<std::string, std::string>>{{"blk.1.attn_q_norm.weight", "model.layers.1.self_attn.q_norm.weight"},
                                                        {"blk.0.attn_k_norm.weight", "model.layers.0.self_attn.k_norm.weight"},
                                                        {"blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight"},
                                                        {"blk.1.attn_q.weight", "model.layers.1.self_attn.q_proj.weight"}}) {
    const TensorInfo* h = st.find(hf_name);
    ASSERT_NE(h, nullptr) << hf_name;
    EXPECT_EQ(testing::f32_values(gguf_tensor(gguf_name)), testing::f32_values(*h)) << gguf_name;
  }
  const std::vector<float> norm = testing::f32_values(*st.find("model.layers.1.self_attn.q_norm.weight"));
  EXPECT_NE(*std::min_element(norm.begin(), norm.end()), *std::max_element(norm.begin(), norm.end()))
      << "the random q/k norms should not be constant";

  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.config.architecture, "qwen3");
  EXPECT_TRUE(back.config.attn_qk_norm);
  EXPECT_EQ(back.config.head_dim, 32);
  EXPECT_EQ(max_abs_diff(logits_of(back), logits_of(hf)), 0.0f);
}

TEST(Qwen3, SaveHfWritesTheSameFolderBack) {
  const Checkpoint hf = load_checkpoint(qwen3_folder());
  const std::string out = testing::temp_dir() + "/random_qwen3_back";
  save_hf(hf, out, DType::F32);
  const std::string config = read_text(out + "/config.json");
  EXPECT_NE(config.find("\"Qwen3ForCausalLM\""), std::string::npos) << config;
  EXPECT_NE(config.find("\"attention_bias\": false"), std::string::npos) << config;
  testing::expect_same_safetensors(qwen3_folder() + "/model.safetensors", out + "/model.safetensors");
  EXPECT_EQ(max_abs_diff(logits_of(load_checkpoint(out)), logits_of(hf)), 0.0f);
}

}  // namespace
}  // namespace lmpack
