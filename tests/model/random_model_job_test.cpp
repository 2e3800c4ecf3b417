// The random-model job (model/random_model_job.h): sizes no model can have
// are refused naming the request's field, before anything is written; a small
// request writes a folder that loads with the config it reports.
#include "model/random_model_job.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "model/checkpoint.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

RandomModelRequest small_request(const std::string& out) {
  RandomModelRequest r;
  r.output = out;
  r.dim = 64;
  r.hidden_dim = 128;
  r.n_layers = 1;
  r.n_heads = 4;
  r.vocab_size = 64;
  r.context_length = 32;
  return r;
}

std::string refused(const RandomModelRequest& r) {
  try {
    write_random_model_job(r);
  } catch (const Error& e) {
    return e.where() + ": " + e.problem();
  }
  return "";
}

TEST(RandomModelJob, BadSizesNameTheField) {
  const std::string out = testing::temp_dir() + "/random-model-job-bad";
  RandomModelRequest r = small_request(out);
  r.n_heads = 5;
  EXPECT_EQ(refused(r), "n_heads: 5 does not divide `dim` 64 (give `head_dim`)");
  r = small_request(out);
  r.n_kv_heads = 3;
  EXPECT_EQ(refused(r), "n_kv_heads: 3 does not divide `n_heads` 4");
  r = small_request(out);
  r.n_layers = -2;
  EXPECT_EQ(refused(r), "n_layers: must be a positive integer, got -2");
  r = small_request(out);
  r.dtype = "f8";
  EXPECT_EQ(refused(r), "dtype: unknown type 'f8' (expected f32, f16 or bf16)");
  r = small_request(out);
  r.architecture = "gemma";
  EXPECT_EQ(refused(r), "architecture: 'gemma' is not one lmpack writes (llama, mistral, qwen2, qwen3, gemma2, gemma3, phi3, "
            "smollm3, mixtral, qwen3moe)");
  r = small_request(out);
  r.head_dim = 7;
  EXPECT_EQ(refused(r), "head_dim: 7 is odd; RoPE needs pairs");
  r = small_request(out);
  r.init_std = 0.0f;
  EXPECT_EQ(refused(r), "init_std: 0 is outside (0, 10]");
  EXPECT_FALSE(fs::exists(out));
}

TEST(RandomModelJob, WritesAFolderThatLoads) {
  const std::string out = testing::temp_dir() + "/random-model-job";
  RandomModelRequest r = small_request(out);
  r.n_kv_heads = 2;
  r.dtype = "bf16";
  const RandomModelReport report = write_random_model_job(r);
  EXPECT_EQ(report.dtype, DType::BF16);
  EXPECT_EQ(report.config.n_kv_heads, 2);
  EXPECT_EQ(report.config.head_dim, 16);
  const Checkpoint c = load_checkpoint(out);
  EXPECT_EQ(c.config.dim, 64);
  EXPECT_EQ(c.config.n_kv_heads, 2);
  EXPECT_EQ(c.tensor("blk.0.attn_q.weight").dtype, DType::BF16);
}

}  // namespace
}  // namespace lmpack

namespace lmpack {
namespace {

// --arch qwen3 --head-dim 32: Qwen3's fields (per-head q/k norms, head_dim
// apart from dim / heads), loaded back as written.
TEST(RandomModelJob, Qwen3WithItsOwnHeadDim) {
  const std::string out = testing::temp_dir() + "/random-model-job-qwen3";
  RandomModelRequest r = small_request(out);
  r.architecture = "qwen3";
  r.head_dim = 32;
  r.n_kv_heads = 2;
  const RandomModelReport report = write_random_model_job(r);
  EXPECT_EQ(report.config.architecture, "qwen3");
  EXPECT_TRUE(report.config.attn_qk_norm);
  const Checkpoint c = load_checkpoint(out);
  EXPECT_EQ(c.config.architecture, "qwen3");
  EXPECT_TRUE(c.config.attn_qk_norm);
  EXPECT_EQ(c.config.head_dim, 32);
  EXPECT_EQ(c.tensor("blk.0.attn_q.weight").shape, (std::vector<int64_t>{128, 64}));
  EXPECT_EQ(c.tensor("blk.0.attn_k_norm.weight").shape, (std::vector<int64_t>{32}));
}

}  // namespace
}  // namespace lmpack
