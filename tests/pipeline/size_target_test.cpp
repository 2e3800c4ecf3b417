// Size targets on ts-llama-4.9M: the allocation fits the target (bits per
// weight or file bytes) within 1% below it, the written GGUF has the chosen
// types and records the allocation, options that fix a tensor are kept,
// and targets no candidate can reach are refused.
#include "pipeline/size_target.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/gguf.h"
#include "pipeline_test_models.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

class SizeTargetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::shared_dir().empty()) return;
    model_ = new Checkpoint(testing::load_with_tok512("models/ts-llama-4.9M/ts-llama-4.9M.bin"));
    windows_ = new std::vector<std::vector<int32_t>>(testing::story_windows(*model_, 2, 256, 5));
    cache_ = new std::string(testing::temp_dir() + "/size_target_sensitivity.json");
    fs::remove(*cache_);
  }
  static void TearDownTestSuite() {
    delete model_;
    delete windows_;
    delete cache_;
    model_ = nullptr;
    windows_ = nullptr;
    cache_ = nullptr;
  }
  static SizeTarget target_bpw(double bpw) {
    SizeTarget t;
    t.bits_per_weight = bpw;
    t.sensitivity.show_progress = false;
    t.cache = *cache_;  // measured once for the suite
    return t;
  }
  static QuantizeOptions options() {
    QuantizeOptions q;
    q.show_progress = false;
    return q;
  }
  static Checkpoint* model_;
  static std::vector<std::vector<int32_t>>* windows_;
  static std::string* cache_;
};
Checkpoint* SizeTargetTest::model_ = nullptr;
std::vector<std::vector<int32_t>>* SizeTargetTest::windows_ = nullptr;
std::string* SizeTargetTest::cache_ = nullptr;

TEST_F(SizeTargetTest, BitsPerWeightTargetsAreMetWithinOnePercentBelow) {
  LMPACK_REQUIRE_SHARED();
  for (double bpw : {3.0, 4.25, 5.0}) {
    QuantizeOptions q = options();
    const SizeAllocation a = allocate_to_target(*model_, *windows_, target_bpw(bpw), q);
    EXPECT_EQ(a.parameters, model_->parameter_count());
    EXPECT_LE(a.bits_per_weight(), bpw);
    EXPECT_GE(a.bits_per_weight(), 0.99 * bpw) << bpw;
    EXPECT_EQ(q.tensor_plan.size(), 43u);  // every matrix: 42 linears and the tied token_embd
    EXPECT_TRUE(q.pure);
    double predicted = 0.0;
    for (const AllocatedTensor& t : a.tensors) {
      EXPECT_EQ(q.tensor_plan.at(t.name), t.type);
      predicted += t.predicted_kl;
    }
    EXPECT_NEAR(predicted, a.predicted_kl, 1e-12);
  }
}

TEST_F(SizeTargetTest, MoreBitsPredictLessLoss) {
  LMPACK_REQUIRE_SHARED();
  double last = 1e9;
  for (double bpw : {2.8, 3.5, 4.5, 6.0, 8.0}) {
    QuantizeOptions q = options();
    const double kl = allocate_to_target(*model_, *windows_, target_bpw(bpw), q).predicted_kl;
    EXPECT_LT(kl, last) << bpw;
    last = kl;
  }
}

TEST_F(SizeTargetTest, TheWrittenFileHasTheChosenTypesFitsAFileTargetAndRecordsTheAllocation) {
  LMPACK_REQUIRE_SHARED();
  SizeTarget t = target_bpw(0);
  t.file_bytes = 2'300'000;
  QuantizeOptions q = options();
  const SizeAllocation a = allocate_to_target(*model_, *windows_, t, q);
  EXPECT_GT(a.overhead_bytes, 0u);
  const std::string out = testing::temp_dir() + "/targeted.gguf";
  const QuantizeReport r = quantize_to_gguf(*model_, out, q);
  EXPECT_LE(r.file_bytes, t.file_bytes);
  EXPECT_GE(static_cast<double>(r.file_bytes), 0.99 * static_cast<double>(t.file_bytes));
  EXPECT_EQ(r.output_bytes, a.tensor_bytes);
  const GgufFile g = read_gguf(out);
  for (const TensorInfo& ti : g.tensors)
    if (q.tensor_plan.count(ti.name)) {
      EXPECT_EQ(ti.dtype, q.tensor_plan.at(ti.name)) << ti.name;
    }
  const GgufValue* v = g.find("lmpack.allocation");
  ASSERT_NE(v, nullptr);
  const nlohmann::json j = nlohmann::json::parse(v->str);
  EXPECT_EQ(j.at("target").get<std::string>(), a.target);
  EXPECT_EQ(j.at("types").size(), 43u);
  EXPECT_EQ(j.at("types").at("blk.2.ffn_up.weight").get<std::string>(),
            std::string(dtype_name(q.tensor_plan.at("blk.2.ffn_up.weight"))));
}

TEST_F(SizeTargetTest, TensorsTheOptionsFixAreKeptAndCounted) {
  LMPACK_REQUIRE_SHARED();
  QuantizeOptions q = options();
  q.token_embedding_type = "q8_0";
  q.tensor_types = {{"attn_v", "q6_K"}};
  const SizeAllocation a = allocate_to_target(*model_, *windows_, target_bpw(4.0), q);
  EXPECT_EQ(q.tensor_plan.size(), 43u - 1u - 6u);
  EXPECT_FALSE(q.tensor_plan.count("token_embd.weight"));
  EXPECT_FALSE(q.tensor_plan.count("blk.3.attn_v.weight"));
  EXPECT_LE(a.bits_per_weight(), 4.0);
  const QuantizeReport r = quantize_to_gguf(*model_, testing::temp_dir() + "/fixed.gguf", q);
  for (const QuantizedTensor& t : r.tensors) {
    if (t.name == "token_embd.weight") {
      EXPECT_EQ(t.type, DType::Q8_0);
    }
    if (t.name.find("attn_v") != std::string::npos) {
      EXPECT_EQ(t.type, DType::Q6_K) << t.name;
    }
  }
  EXPECT_EQ(r.output_bytes, a.tensor_bytes);
}

TEST_F(SizeTargetTest, UnreachableTargetsAreRefused) {
  LMPACK_REQUIRE_SHARED();
  QuantizeOptions q = options();
  // Refused from the shapes alone, before any sensitivity is measured: the
  // cache file it would be kept in is not written.
  SizeTarget two = target_bpw(2.0);
  two.cache = testing::temp_dir() + "/unreachable-sensitivity.json";
  try {
    allocate_to_target(*model_, *windows_, two, q);
    FAIL() << "no error";
  } catch (const TargetBelowSmallest& e) {
    EXPECT_EQ(e.where(), "target");
    EXPECT_NE(std::string(e.what()).find("below the smallest model"), std::string::npos) << e.what();
    EXPECT_GT(e.smallest_bits_per_weight, 2.6);  // q2_K is 2.625 bpw; the norms are F32
    EXPECT_LT(e.smallest_bits_per_weight, 2.8);
  }
  EXPECT_FALSE(std::filesystem::exists(two.cache));
  SizeTarget t = target_bpw(0);
  t.file_bytes = 1000;
  EXPECT_THROW(allocate_to_target(*model_, *windows_, t, q), Error);
  EXPECT_TRUE(q.tensor_plan.empty());
}

TEST(SizeTarget, ValidationNamesTheField) {
  SizeTarget t;
  EXPECT_THROW(validate_size_target(t), Error);  // neither
  t.bits_per_weight = 4;
  t.file_bytes = 10;
  EXPECT_THROW(validate_size_target(t), Error);  // both
  t.file_bytes = 0;
  t.bits_per_weight = 40;
  EXPECT_THROW(validate_size_target(t), Error);
  t.bits_per_weight = 4;
  t.sensitivity.types = {DType::Q4_K};
  t.sensitivity.probe = DType::Q2_K;
  try {
    validate_size_target(t);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "probe");
  }
  EXPECT_EQ(describe_size_target(SizeTarget{3.5, 0, {}, ""}), "3.5 bpw");
}

}  // namespace
}  // namespace lmpack
