// The sequential calibration pipeline (pipeline/sequential_calibration.h):
// plumbing (RTN through the pipeline equals the format encoder), GPTQ's
// per-layer output errors below RTN's on stories260K, AWQ's folding keeps the
// model's function (a random Qwen2-shaped model with v→o folding and biases),
// the integer grid path, and the refusals.
#include "pipeline/sequential_calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/parallel.h"
#include "eval/calibration.h"
#include "formats/decode.h"
#include "methods/gptq_format.h"
#include "model/forward.h"
#include "model/random_model.h"
#include "model/tokenizer.h"
#include "model/weights.h"
#include "pipeline/compressed_checkpoint.h"
#include "pipeline_test_models.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::load_stories260k;

// Calibration windows of TinyStories text (seed 3).
std::vector<std::vector<int32_t>> story_windows(const Checkpoint& c, int64_t samples, int64_t ctx) {
  return testing::story_windows(c, samples, ctx, 3);
}

// Every linear of the checkpoint gets `type`, except rows that fit no block of it (F16).
std::map<std::string, DType> all_linears(const Checkpoint& c, DType type) {
  std::map<std::string, DType> types;
  for (int64_t l = 0; l < c.config.n_layers; ++l)
    for (const std::string& n : block_linear_names(l))
      types[n] = c.tensor(n).cols() % dtype_traits(type).block_elements == 0 ? type : DType::F16;
  return types;
}

std::vector<float> decoded(const TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  decode_to_f32(v.data(), t.data, t.dtype, t.n_elements());
  return v;
}

std::vector<float> logits_of(const Checkpoint& c, const std::vector<int32_t>& tokens) {
  auto f = make_fast_forward(build_weights(c), static_cast<int64_t>(tokens.size()));
  std::vector<float> logits(tokens.size() * static_cast<size_t>(c.config.vocab_size));
  f->forward(tokens.data(), static_cast<int64_t>(tokens.size()), logits.data());
  return logits;
}

double rms_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s / static_cast<double>(a.size()));
}

TEST(SequentialCalibration, RtnThroughThePipelineIsTheFormatEncoder) {
  LMPACK_REQUIRE_SHARED();
  set_num_threads(2);
  const Checkpoint c = load_stories260k();
  CalibrationRecipe r;
  r.rounding = RoundingMethod::kRtn;
  r.gguf_types = all_linears(c, DType::Q8_0);
  r.show_progress = false;
  SequentialCalibration p(c, {}, r);
  for (int64_t l = 0; l < c.config.n_layers; ++l)
    for (const std::string& n : block_linear_names(l)) {
      const TensorInfo& t = c.tensor(n);
      const std::vector<float> w = decoded(t);
      const QuantizedMatrix expected = rtn_quantize_format(w.data(), t.rows(), t.cols(), r.gguf_types.at(n), nullptr);
      EXPECT_EQ(p.take_matrix(n).data, expected.data) << n;
    }
  EXPECT_EQ(p.take_f32("blk.2.ffn_norm.weight"), decoded(c.tensor("blk.2.ffn_norm.weight")));
  ASSERT_EQ(p.layer_errors().size(), static_cast<size_t>(7 * c.config.n_layers));
  EXPECT_TRUE(std::isnan(p.layer_errors()[0].relative_error)) << "no calibration data, no error";
}

TEST(SequentialCalibration, GptqHasLowerOutputErrorThanRtnOnStories260K) {
  LMPACK_REQUIRE_SHARED();
  set_num_threads(2);
  const Checkpoint c = load_stories260k();
  const auto windows = story_windows(c, 16, 128);
  auto run = [&](RoundingMethod m) {
    CalibrationRecipe r;
    r.rounding = m;
    r.gguf_types = all_linears(c, DType::Q4_0);
    r.show_progress = false;
    SequentialCalibration p(c, windows, r);
    p.run_all();
    return p.layer_errors();
  };
  const std::vector<LayerError> rtn = run(RoundingMethod::kRtn), gptq = run(RoundingMethod::kGptq);
  ASSERT_EQ(rtn.size(), gptq.size());
  double sum_rtn = 0.0, sum_gptq = 0.0;
  for (size_t i = 0; i < rtn.size(); ++i) {
    ASSERT_EQ(rtn[i].name, gptq[i].name);
    ASSERT_TRUE(std::isfinite(rtn[i].relative_error) && std::isfinite(gptq[i].relative_error)) << rtn[i].name;
    EXPECT_GT(rtn[i].relative_error, 0.0) << rtn[i].name;
    if (rtn[i].grid.rfind("q4_0", 0) == 0) {
      sum_rtn += rtn[i].relative_error;
      sum_gptq += gptq[i].relative_error;
    }
  }
  std::printf("stories260K Q4_0 mean relative output error: RTN %.4f, GPTQ %.4f\n", sum_rtn / rtn.size(),
              sum_gptq / gptq.size());
  EXPECT_LT(sum_gptq, 0.9 * sum_rtn);
}

TEST(SequentialCalibration, IntegerGridGivesConsistentCodes) {
  LMPACK_REQUIRE_SHARED();
  set_num_threads(2);
  const Checkpoint c = load_stories260k();
  CalibrationRecipe r;
  r.rounding = RoundingMethod::kGptq;
  IntGridSpec g;
  g.bits = 4;
  r.int_grid = g;
  r.group_size = 32;
  r.show_progress = false;
  SequentialCalibration p(c, story_windows(c, 8, 64), r);
  const QuantizedMatrix m = p.take_matrix("blk.1.attn_q.weight");
  EXPECT_EQ(m.rows, 64);
  EXPECT_EQ(m.cols, 64);
  EXPECT_EQ(m.n_groups, 2);
  for (uint8_t q : m.codes) EXPECT_LE(q, 15);
  EXPECT_EQ(p.layer_errors().size(), 14u) << "blocks 0 and 1 ran";
}

TEST(SequentialCalibration, AwqFoldingKeepsTheModelsFunction) {
  set_num_threads(2);
  RandomModelSpec spec;
  ModelConfig& cfg = spec.config;
  cfg.architecture = "qwen2";
  cfg.dim = 64;
  cfg.hidden_dim = 128;
  cfg.n_layers = 2;
  cfg.n_heads = 4;
  cfg.n_kv_heads = 4;  // q_dim == kv_dim: v→o folding applies
  cfg.head_dim = 16;
  cfg.vocab_size = 96;
  cfg.context_length = 64;
  cfg.attn_qkv_bias = true;
  const std::string dir = testing::temp_dir() + "/awq-random";
  write_random_model(spec, dir);
  const Checkpoint c = load_checkpoint(dir);
  std::mt19937 rng(5);
  std::vector<std::vector<int32_t>> windows(8, std::vector<int32_t>(32));
  for (auto& w : windows)
    for (int32_t& t : w) t = static_cast<int32_t>(rng() % cfg.vocab_size);
  std::vector<int32_t> probe(48);
  for (int32_t& t : probe) t = static_cast<int32_t>(rng() % cfg.vocab_size);
  const std::vector<float> base = logits_of(c, probe);

  auto quantized_logits = [&](bool awq, std::vector<LayerError>* errors) {
    CalibrationRecipe r;
    r.rounding = RoundingMethod::kRtn;
    r.awq = awq;
    r.gguf_types = all_linears(c, DType::Q8_0);
    r.show_progress = false;
    SequentialCalibration p(c, windows, r);
    const Checkpoint q = decode_compressed(c, p, r.gguf_types, {});
    *errors = p.layer_errors();
    return logits_of(q, probe);
  };
  std::vector<LayerError> rtn_errors, awq_errors;
  const double rtn = rms_diff(base, quantized_logits(false, &rtn_errors));
  const double awq = rms_diff(base, quantized_logits(true, &awq_errors));
  int scaled = 0;
  for (const LayerError& e : awq_errors) scaled += e.awq_alpha > 0.0;
  std::printf("random qwen2: rms logit change Q8_0 RTN %.3g, AWQ %.3g; %d of %zu layers scaled\n", rtn, awq, scaled,
              awq_errors.size());
  EXPECT_GT(scaled, 0) << "AWQ chose α = 0 everywhere: the folding went untested";
  // A folding mistake (a norm or v/up row not divided) changes the logits by
  // far more than 8-bit rounding does.
  EXPECT_LT(awq, 3.0 * rtn + 1e-6);
}

TEST(SequentialCalibration, RefusesCalibratedMethodsWithoutData) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint c = load_stories260k();
  CalibrationRecipe r;
  r.rounding = RoundingMethod::kGptq;
  r.gguf_types = all_linears(c, DType::Q4_0);
  try {
    SequentialCalibration p(c, {}, r);
    FAIL() << "GPTQ without calibration windows";
  } catch (const Error& e) {
    // The library names the request's field, never a CLI flag (the CLI maps it to --calib).
    EXPECT_EQ(std::string(e.what()).rfind("calibration: ", 0), 0u) << e.what();
    EXPECT_EQ(std::string(e.what()).find("--"), std::string::npos) << e.what();
  }
  r.gguf_types.erase("blk.0.attn_q.weight");
  r.rounding = RoundingMethod::kRtn;
  EXPECT_THROW(SequentialCalibration(c, {}, r), Error) << "a linear without a target type";
}

}  // namespace
}  // namespace lmpack
