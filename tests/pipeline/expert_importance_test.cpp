// A mixture of experts' importance (pipeline/expert_importance.h): lmpack's
// imatrix of a random Mixtral holds one stacked entry per kind and block (a
// row per expert, as llama.cpp's files do), each row the expert's own mean
// squared inputs; GGUF quantization weights each expert's rows with its row,
// and calibration reads an expert's row back by its own name.
#include "pipeline/expert_importance.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>

#include "core/error.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "model/checkpoint.h"
#include "model/random_model.h"
#include "model/tensor_names.h"
#include "pipeline/gguf_quantize.h"
#include "pipeline/imatrix_job.h"
#include "test_paths.h"

namespace lmpack {
namespace {

Checkpoint random_mixtral() {
  RandomModelSpec spec;
  spec.config.architecture = "mixtral";
  spec.config.dim = 256;  // one Q4_K block per row
  spec.config.hidden_dim = spec.config.expert_hidden_dim = 256;
  spec.config.n_layers = 2;
  spec.config.n_heads = 4;
  spec.config.n_kv_heads = 2;
  spec.config.head_dim = 64;
  spec.config.vocab_size = 512;  // tok512's
  spec.config.context_length = 64;
  spec.config.n_experts = 4;
  spec.config.n_experts_used = 2;
  spec.init_std = 0.1f;
  const std::string dir = testing::temp_dir() + "/importance_mixtral";
  write_random_model(spec, dir);
  return load_checkpoint(dir);
}

std::vector<std::vector<int32_t>> random_windows() {
  std::mt19937 gen(9);
  std::vector<std::vector<int32_t>> windows(4, std::vector<int32_t>(64));
  for (auto& w : windows)
    for (auto& t : w) t = static_cast<int32_t>(gen() % 512);
  return windows;
}

TEST(ExpertImportance, StackedAsLlamaCppAndReadBackPerExpert) {
  const Checkpoint c = random_mixtral();
  const ImportanceMatrix m = compute_importance_matrix(c, random_windows(), {"random"}, false);
  const std::string stacked = "blk.1.ffn_down_exps.weight";
  ASSERT_EQ(m.values.count(stacked), 1u);
  EXPECT_EQ(m.values.at(stacked).size(), 4u * 256u);
  EXPECT_EQ(m.matrices.at(stacked), 4);
  EXPECT_EQ(m.values.count(expert_tensor_name(1, "ffn_down_exps", 2)), 0u);
  EXPECT_EQ(m.values.at("blk.0.attn_q.weight").size(), 256u);
  // Each expert's row is its own: the rows differ, and linear_importance gives them back.
  const std::vector<float> e2 = linear_importance(m, expert_tensor_name(1, "ffn_down_exps", 2), 256, c.config);
  const std::vector<float> e3 = linear_importance(m, expert_tensor_name(1, "ffn_down_exps", 3), 256, c.config);
  ASSERT_EQ(e2.size(), 256u);
  EXPECT_EQ(e2, std::vector<float>(m.values.at(stacked).begin() + 512, m.values.at(stacked).begin() + 768));
  EXPECT_NE(e2, e3);
  EXPECT_THROW(linear_importance(m, expert_tensor_name(1, "ffn_down_exps", 2), 128, c.config), Error);
}

TEST(ExpertImportance, GgufQuantizationWeightsEachExpertWithItsRow) {
  LMPACK_REQUIRE_SHARED();  // the GGUF needs a vocabulary: tok512
  LoadOptions lo;
  lo.tokenizer_path = testing::shared_path("models/stories260K/tok512.bin");
  random_mixtral();
  const Checkpoint c = load_checkpoint(testing::temp_dir() + "/importance_mixtral", lo);
  auto m = std::make_shared<ImportanceMatrix>(compute_importance_matrix(c, random_windows(), {"random"}, false));
  QuantizeOptions o;
  o.type_name = "Q4_K_M";
  o.imatrix = m;
  o.show_progress = false;
  const std::string path = testing::temp_dir() + "/importance_mixtral.gguf";
  const QuantizeReport r = quantize_to_gguf(c, path, o);
  const QuantizedTensor* down = nullptr;
  for (const QuantizedTensor& t : r.tensors)
    if (t.name == "blk.1.ffn_down_exps.weight") down = &t;
  ASSERT_NE(down, nullptr);
  EXPECT_TRUE(down->used_importance);
  for (const std::string& w : r.warnings) EXPECT_EQ(w.find("exps"), std::string::npos) << w;  // token_embd has none
  // Expert 2's rows in the file are its rows encoded with its own importance row.
  const Checkpoint q = load_checkpoint(path);
  const TensorInfo& stored = q.tensor(expert_tensor_name(1, "ffn_down_exps", 2));
  ASSERT_EQ(stored.dtype, down->type);
  const TensorInfo& source = c.tensor(expert_tensor_name(1, "ffn_down_exps", 2));
  const std::vector<float> imp = linear_importance(*m, expert_tensor_name(1, "ffn_down_exps", 2), 256, c.config);
  const size_t row_bytes = dtype_bytes(down->type, 256);
  std::vector<uint8_t> own(row_bytes * 256), other(row_bytes * 256);
  const std::vector<float> other_imp = linear_importance(*m, expert_tensor_name(1, "ffn_down_exps", 0), 256, c.config);
  for (int64_t row = 0; row < 256; ++row) {
    const float* w = reinterpret_cast<const float*>(source.data) + row * 256;
    format_ops(down->type).quantize_row(own.data() + row * row_bytes, w, 256, imp.data());
    format_ops(down->type).quantize_row(other.data() + row * row_bytes, w, 256, other_imp.data());
  }
  EXPECT_EQ(std::memcmp(stored.data, own.data(), own.size()), 0);
  EXPECT_NE(own, other) << "another expert's importance row would have encoded it differently";
}

}  // namespace
}  // namespace lmpack
