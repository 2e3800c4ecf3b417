// measure_tensor_sensitivity and its cache on ts-llama-4.9M (rows of 256 and
// 768: the k-quant blocks apply): the probe KL it measures is the KL of a
// real GGUF file with that tensor alone quantized; its predictions rank the
// tensors' own ΔKL at a type it did not probe; a cache holds the same
// numbers and is refused for other inputs.
#include "pipeline/tensor_sensitivity.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/error.h"
#include "eval/kl.h"
#include "eval/perplexity.h"
#include "pipeline/gguf_quantize.h"
#include "pipeline/sensitivity_cache.h"
#include "pipeline_test_models.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTsLlama = "models/ts-llama-4.9M/ts-llama-4.9M.bin";

// Mean KL(base || other) over every position of the windows.
double mean_kl(const Checkpoint& base, const Checkpoint& other, const std::vector<std::vector<int32_t>>& windows) {
  const int64_t vocab = base.config.vocab_size, ctx = static_cast<int64_t>(windows.front().size());
  auto fb = make_fast_forward(build_weights(base), ctx);
  auto fo = make_fast_forward(build_weights(other), ctx);
  std::vector<float> lb(static_cast<size_t>(ctx * vocab)), lo(lb.size()), pb(static_cast<size_t>(vocab)), po(pb.size());
  double sum = 0.0;
  int64_t n = 0;
  for (const auto& w : windows) {
    fb->reset();
    fo->reset();
    fb->forward(w.data(), ctx, lb.data());
    fo->forward(w.data(), ctx, lo.data());
    for (int64_t p = 0; p < ctx; ++p, ++n) {
      log_softmax(pb.data(), lb.data() + p * vocab, vocab);
      log_softmax(po.data(), lo.data() + p * vocab, vocab);
      sum += kl_divergence(pb.data(), po.data(), vocab);
    }
  }
  return sum / static_cast<double>(n);
}

// The model with `name` alone in `type`, written by the GGUF writer and read back.
Checkpoint with_one_tensor(const Checkpoint& c, const std::string& name, DType type, const std::string& path) {
  QuantizeOptions q;
  q.type_name = "f32";
  q.pure = true;
  q.tensor_plan[name] = type;
  q.show_progress = false;
  quantize_to_gguf(c, path, q);
  return load_checkpoint(path);
}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size(); ++i) r[order[i]] = static_cast<double>(i);
  return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size());
  double d2 = 0.0;
  for (size_t i = 0; i < a.size(); ++i) d2 += (ra[i] - rb[i]) * (ra[i] - rb[i]);
  return 1.0 - 6.0 * d2 / (n * (n * n - 1.0));
}

class TensorSensitivityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::shared_dir().empty()) return;
    model_ = new Checkpoint(testing::load_with_tok512(kTsLlama));
    windows_ = new std::vector<std::vector<int32_t>>(testing::story_windows(*model_, 6, 256, 13));
    SensitivityOptions o;
    o.max_tokens = 1024;  // 4 of the 6 windows
    o.show_progress = false;
    table_ = new SensitivityTable(measure_tensor_sensitivity(*model_, *windows_, o));
  }
  static void TearDownTestSuite() {
    delete table_;
    delete windows_;
    delete model_;
    table_ = nullptr;
    windows_ = nullptr;
    model_ = nullptr;
  }
  static std::vector<std::vector<int32_t>> measured_windows() {
    return {windows_->begin(), windows_->begin() + 4};
  }
  static Checkpoint* model_;
  static std::vector<std::vector<int32_t>>* windows_;
  static SensitivityTable* table_;
};
Checkpoint* TensorSensitivityTest::model_ = nullptr;
std::vector<std::vector<int32_t>>* TensorSensitivityTest::windows_ = nullptr;
SensitivityTable* TensorSensitivityTest::table_ = nullptr;

TEST_F(TensorSensitivityTest, CoversEveryQuantizedMatrixWithEveryCandidate) {
  LMPACK_REQUIRE_SHARED();
  const SensitivityTable& t = *table_;
  EXPECT_EQ(t.windows, 4);
  EXPECT_EQ(t.tokens, 1024);
  EXPECT_EQ(t.probe, DType::Q2_K);
  // 6 blocks of 7 linears and the tied token_embd; no norms.
  ASSERT_EQ(t.tensors.size(), 43u);
  EXPECT_EQ(t.tensors.front().name, "token_embd.weight");
  for (const TensorSensitivity& s : t.tensors) {
    EXPECT_EQ(s.name.find("norm"), std::string::npos) << s.name;
    ASSERT_EQ(s.costs.size(), 6u) << s.name;
    for (size_t i = 1; i < s.costs.size(); ++i) {
      EXPECT_GT(s.costs[i].bytes, s.costs[i - 1].bytes) << s.name;
      EXPECT_LT(s.costs[i].error2, s.costs[i - 1].error2) << s.name;  // more bits, less error
    }
    EXPECT_GT(s.probe_kl, 0.0) << s.name;
    EXPECT_GT(s.gain, 0.0) << s.name;
    EXPECT_DOUBLE_EQ(s.predicted_kl(s.costs.front()), s.probe_kl) << s.name;  // the probe is the lowest
  }
}

TEST_F(TensorSensitivityTest, ProbeKlIsTheKlOfAFileWithThatTensorAloneQuantized) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = testing::temp_dir();
  for (const char* name : {"blk.1.ffn_down.weight", "blk.4.attn_v.weight", "token_embd.weight"}) {
    const auto it = std::find_if(table_->tensors.begin(), table_->tensors.end(),
                                 [&](const TensorSensitivity& s) { return s.name == name; });
    ASSERT_NE(it, table_->tensors.end()) << name;
    const Checkpoint one = with_one_tensor(*model_, name, DType::Q2_K, dir + "/one.gguf");
    const double kl = mean_kl(*model_, one, measured_windows());
    EXPECT_NEAR(it->probe_kl, kl, 1e-6 * kl + 1e-12) << name;
  }
}

TEST_F(TensorSensitivityTest, PredictionsRankTheTensorsOwnKlAtAnUnprobedType) {
  LMPACK_REQUIRE_SHARED();
  // Every third tensor, alone in q4_K (not the probe): measured ΔKL against
  // the predicted gain · error²(q4_K).
  std::vector<double> predicted, measured;
  for (size_t i = 0; i < table_->tensors.size(); i += 3) {
    const TensorSensitivity& s = table_->tensors[i];
    const auto c = std::find_if(s.costs.begin(), s.costs.end(), [](const TypeCost& x) { return x.type == DType::Q4_K; });
    ASSERT_NE(c, s.costs.end());
    predicted.push_back(s.predicted_kl(*c));
    const Checkpoint one = with_one_tensor(*model_, s.name, DType::Q4_K, testing::temp_dir() + "/q4.gguf");
    measured.push_back(mean_kl(*model_, one, measured_windows()));
  }
  const double rho = spearman(predicted, measured);
  std::printf("[sensitivity] %zu tensors at q4_K: Spearman(predicted, measured ΔKL) = %.3f\n", predicted.size(), rho);
  EXPECT_GT(rho, 0.9);
  // And in size, not only in order: the sum within a factor of 1.5.
  const double p = std::accumulate(predicted.begin(), predicted.end(), 0.0);
  const double m = std::accumulate(measured.begin(), measured.end(), 0.0);
  EXPECT_GT(p / m, 1.0 / 1.5);
  EXPECT_LT(p / m, 1.5);
}

TEST_F(TensorSensitivityTest, CacheHoldsTheSameTableAndOnlyForTheSameInputs) {
  LMPACK_REQUIRE_SHARED();
  const std::string path = testing::temp_dir() + "/sensitivity.json";
  fs::remove(path);
  SensitivityOptions o;
  o.max_tokens = 1024;
  o.show_progress = false;
  EXPECT_EQ(table_->key, sensitivity_key(*model_, *windows_, o));
  write_sensitivity_cache(path, *table_);
  const std::optional<SensitivityTable> back = read_sensitivity_cache(path, table_->key);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->from_cache);
  ASSERT_EQ(back->tensors.size(), table_->tensors.size());
  for (size_t i = 0; i < back->tensors.size(); ++i) {
    EXPECT_EQ(back->tensors[i].name, table_->tensors[i].name);
    EXPECT_EQ(back->tensors[i].probe_kl, table_->tensors[i].probe_kl);
    EXPECT_EQ(back->tensors[i].gain, table_->tensors[i].gain);
    for (size_t k = 0; k < back->tensors[i].costs.size(); ++k) {
      EXPECT_EQ(back->tensors[i].costs[k].error2, table_->tensors[i].costs[k].error2);
      EXPECT_EQ(back->tensors[i].costs[k].bytes, table_->tensors[i].costs[k].bytes);
    }
  }
  // cached_tensor_sensitivity reads it instead of measuring.
  EXPECT_TRUE(cached_tensor_sensitivity(*model_, *windows_, o, path).from_cache);
  // Other windows, another probe, other types, other weights: other keys.
  std::vector<std::vector<int32_t>> other = *windows_;
  other[0][5] = (other[0][5] + 1) % 512;
  EXPECT_NE(sensitivity_key(*model_, other, o), table_->key);
  SensitivityOptions probe = o;
  probe.probe = DType::Q3_K;
  EXPECT_NE(sensitivity_key(*model_, *windows_, probe), table_->key);
  SensitivityOptions types = o;
  types.types = {DType::Q4_K, DType::Q8_0};
  EXPECT_NE(sensitivity_key(*model_, *windows_, types), table_->key);
  Checkpoint edited = *model_;
  std::vector<float> w(256 * 256, 0.01f);
  edited.set_f32("blk.0.attn_q.weight", {256, 256}, w);
  EXPECT_NE(sensitivity_key(edited, *windows_, o), table_->key);
  EXPECT_FALSE(read_sensitivity_cache(path, table_->key ^ 1).has_value());
  // A file that is not a table: an error naming it.
  std::ofstream(path) << "{\"key\": 3}";
  try {
    read_sensitivity_cache(path, 3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), path);
  }
}

TEST(TensorSensitivityOptions, DefaultsAndBadOptions) {
  const SensitivityOptions d = resolved_sensitivity_options({});
  EXPECT_EQ(d.types, default_allocation_types());
  EXPECT_EQ(*d.probe, DType::Q2_K);
  SensitivityOptions o;
  o.types = {DType::Q8_0, DType::Q4_K, DType::Q4_K};
  const SensitivityOptions r = resolved_sensitivity_options(o);
  EXPECT_EQ(r.types, (std::vector<DType>{DType::Q4_K, DType::Q8_0}));  // deduplicated, fewest bits first
  EXPECT_EQ(*r.probe, DType::Q4_K);
  o.probe = DType::Q2_K;
  try {
    resolved_sensitivity_options(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "probe");
  }
  o.probe.reset();
  o.types = {DType::Q8_K};  // an activation format
  try {
    resolved_sensitivity_options(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "types");
  }
  o.types = {};
  o.max_tokens = 0;
  try {
    resolved_sensitivity_options(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "max_tokens");
  }
}

}  // namespace
}  // namespace lmpack
