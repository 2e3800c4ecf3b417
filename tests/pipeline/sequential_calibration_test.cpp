// The sequential calibration pipeline (pipeline/sequential_calibration.h):
// plumbing (RTN through the pipeline equals the format encoder), GPTQ's
// per-layer output errors below RTN's on stories260K, AWQ's folding keeps the
// model's function (a random Qwen2-shaped model with v→o folding and biases),
// the integer grid path, and the refusals.
#include "pipeline/sequential_calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/parallel.h"
#include "eval/calibration.h"
#include "formats/decode.h"
#include "formats/format_sizes.h"
#include "methods/gptq.h"
#include "methods/gptq_format.h"
#include "model/random_model.h"
#include "model/tensor_names.h"
#include "pipeline/compressed_checkpoint.h"
#include "pipeline_test_models.h"
#include "runtime/block_forward.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "stats/hessian.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

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
    for (const std::string& n : block_linear_names(l, c.config))
      types[n] = c.tensor(n).cols() % dtype_block_elements(type) == 0 ? type : DType::F16;
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

// A mixture of experts calibrates per expert: each expert's Hessian from the
// tokens the router sends it, or from every token of the block when fewer
// than min_expert_tokens came (set between the experts' counts of a first
// run, so that both cases occur); the counts add up to tokens x experts per
// token; GPTQ beats RTN on the experts as on dense layers.
TEST(SequentialCalibration, MixtureOfExpertsCalibratesPerExpert) {
  set_num_threads(2);
  RandomModelSpec spec;
  spec.config.architecture = "mixtral";
  spec.config.dim = 64;
  spec.config.hidden_dim = spec.config.expert_hidden_dim = 64;
  spec.config.n_layers = 2;
  spec.config.n_heads = 4;
  spec.config.n_kv_heads = 2;
  spec.config.head_dim = 16;
  spec.config.vocab_size = 256;
  spec.config.context_length = 64;
  spec.config.n_experts = 4;
  spec.config.n_experts_used = 2;
  spec.init_std = 0.1f;
  const std::string dir = testing::temp_dir() + "/calibration_mixtral";
  write_random_model(spec, dir);
  const Checkpoint c = load_checkpoint(dir);
  std::mt19937 gen(4);
  std::vector<std::vector<int32_t>> windows(8, std::vector<int32_t>(64));
  for (auto& w : windows)
    for (auto& t : w) t = static_cast<int32_t>(gen() % 256);
  auto run = [&](RoundingMethod m, int64_t min_tokens) {
    CalibrationRecipe r;
    r.rounding = m;
    r.gguf_types = all_linears(c, DType::Q4_0);
    r.show_progress = false;
    r.min_expert_tokens = min_tokens;
    SequentialCalibration p(c, windows, r);
    p.run_all();
    EXPECT_EQ(p.take_f32("blk.1.ffn_gate_inp.weight").size(), 256u) << "the router stays in float";
    return p.layer_errors();
  };
  // Block 0's routing does not depend on the calibration (its input is the embedding).
  std::vector<int64_t> counts;
  for (const LayerError& e : run(RoundingMethod::kRtn, 0))
    if (e.name.rfind("blk.0.ffn_down_exps.", 0) == 0) counts.push_back(e.routed_tokens);
  ASSERT_EQ(counts.size(), 4u);
  std::sort(counts.begin(), counts.end());
  ASSERT_LT(counts[0], counts[3]);
  const int64_t threshold = counts[3];  // the busiest expert keeps its own tokens, the others fall back
  const std::vector<LayerError> rtn = run(RoundingMethod::kRtn, threshold), gptq = run(RoundingMethod::kGptq, threshold);
  ASSERT_EQ(gptq.size(), static_cast<size_t>(2 * (4 + 3 * 4)));
  const int64_t tokens = 8 * 64;
  int64_t routed_sum[2] = {0, 0};
  int fell_back = 0;
  double sum_rtn = 0.0, sum_gptq = 0.0;
  for (size_t i = 0; i < gptq.size(); ++i) {
    const LayerError& e = gptq[i];
    ASSERT_EQ(e.name, rtn[i].name);
    int64_t layer = 0, expert = 0;
    std::string kind;
    if (!split_expert_name(e.name, &layer, &kind, &expert)) {
      EXPECT_EQ(e.routed_tokens, -1) << e.name;
      EXPECT_EQ(e.tokens, tokens) << e.name;
      continue;
    }
    ASSERT_GE(e.routed_tokens, 0) << e.name;
    EXPECT_EQ(e.tokens, e.routed_tokens < threshold ? tokens : e.routed_tokens) << e.name;
    if (layer == 0 && kind == "ffn_gate_exps") fell_back += e.tokens == tokens;
    if (kind == "ffn_down_exps") routed_sum[layer] += e.routed_tokens;
    sum_rtn += rtn[i].relative_error;
    sum_gptq += e.relative_error;
  }
  EXPECT_EQ(routed_sum[0], 2 * tokens);
  EXPECT_EQ(routed_sum[1], 2 * tokens);
  EXPECT_GE(fell_back, 1);
  EXPECT_LE(fell_back, 3);
  EXPECT_LT(sum_gptq, 0.95 * sum_rtn);
}

// scale · (code - zero) of every element, by the matrix's own groups.
std::vector<float> dequantize_codes(const QuantizedMatrix& m) {
  std::vector<float> v(static_cast<size_t>(m.rows * m.cols));
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) {
      const int64_t g = r * m.n_groups + m.g_idx[c];
      v[r * m.cols + c] = m.scales[g] * static_cast<float>(static_cast<int32_t>(m.codes[r * m.cols + c]) - m.zeros[g]);
    }
  return v;
}

// The pipeline takes the dequantized values out of the matrices it hands on
// (`dequantized` is empty there); the values it went on with are seen through
// what it measured. Block 0 is replayed here stage by stage with every linear
// replaced by scale · (code - zero) of its codes: each layer's input Hessian
// then is the one the pipeline saw only if the layers before it went on as
// scale · (code - zero), and its reported output error and zero count match
// only if it did too. GPTQ's own dequantized values on that Hessian are
// scale · (code - zero) element for element, with the pipeline's codes.
TEST(SequentialCalibration, IntegerGridGivesConsistentCodes) {
  LMPACK_REQUIRE_SHARED();
  set_num_threads(2);
  const Checkpoint c = load_stories260k();
  const ModelConfig& cfg = c.config;
  const auto windows = story_windows(c, 8, 64);
  CalibrationRecipe r;
  r.rounding = RoundingMethod::kGptq;
  IntGridSpec g;
  g.bits = 4;
  r.int_grid = g;
  r.group_size = 32;
  r.show_progress = false;
  SequentialCalibration p(c, windows, r);
  std::map<std::string, QuantizedMatrix> ints;
  for (int64_t l = 0; l < 2; ++l)
    for (const std::string& n : block_linear_names(l)) ints[n] = p.take_matrix(n);
  ASSERT_EQ(p.layer_errors().size(), 14u) << "blocks 0 and 1 ran";
  std::map<std::string, LayerError> errors;
  for (const LayerError& e : p.layer_errors()) errors[e.name] = e;
  for (const auto& [name, m] : ints) {
    SCOPED_TRACE(name);
    const TensorInfo& t = c.tensor(name);
    ASSERT_EQ(m.rows, t.rows());
    ASSERT_EQ(m.cols, t.cols());
    EXPECT_EQ(m.group_size, 32);
    ASSERT_EQ(m.n_groups, (m.cols + 31) / 32);
    ASSERT_EQ(m.codes.size(), static_cast<size_t>(m.rows * m.cols));
    ASSERT_EQ(m.scales.size(), static_cast<size_t>(m.rows * m.n_groups));
    ASSERT_EQ(m.zeros.size(), m.scales.size());
    ASSERT_EQ(m.g_idx.size(), static_cast<size_t>(m.cols));
    for (int64_t col = 0; col < m.cols; ++col) ASSERT_EQ(m.g_idx[col], col / 32);
    for (uint8_t q : m.codes) ASSERT_LE(q, 15);
    for (size_t i = 0; i < m.scales.size(); ++i) {
      EXPECT_GT(m.scales[i], 0.0f);
      EXPECT_TRUE(m.zeros[i] >= 0 && m.zeros[i] <= 15) << m.zeros[i];
    }
    const std::vector<float> w_hat = dequantize_codes(m);
    int64_t zeros = 0;
    for (float v : w_hat) zeros += v == 0.0f;
    EXPECT_GT(zeros, 0) << "4-bit groups of real weights hit their zero point";
    EXPECT_EQ(errors.at(name).zeros, zeros) << "exact zeros of the values the pipeline went on with";
  }

  // Block 0 replayed on scale · (code - zero).
  const int64_t T = static_cast<int64_t>(windows.size() * windows[0].size()), dim = cfg.dim;
  const std::shared_ptr<const ModelWeights> weights = build_weights(c);
  const RopeTables rope = make_rope_tables(weights->rope_inv_freq, static_cast<int64_t>(windows[0].size()));
  BlockF32 b = load_block_f32(c, 0);
  const BlockF32 original = b;
  b.wq = dequantize_codes(ints.at("blk.0.attn_q.weight"));
  b.wk = dequantize_codes(ints.at("blk.0.attn_k.weight"));
  b.wv = dequantize_codes(ints.at("blk.0.attn_v.weight"));
  b.wo = dequantize_codes(ints.at("blk.0.attn_output.weight"));
  b.w_gate = dequantize_codes(ints.at("blk.0.ffn_gate.weight"));
  b.w_up = dequantize_codes(ints.at("blk.0.ffn_up.weight"));
  b.w_down = dequantize_codes(ints.at("blk.0.ffn_down.weight"));
  auto expect_error = [&](const char* suffix, const std::vector<float>& w, const std::vector<float>& w_hat,
                          const Hessian& h) {
    const std::string name = std::string("blk.0.") + suffix;
    const int64_t rows = static_cast<int64_t>(w.size()) / h.cols;
    const double num = hessian_output_error(w.data(), w_hat.data(), rows, h.cols, h);
    const double den = hessian_output_error(w.data(), nullptr, rows, h.cols, h);
    const double expected = std::sqrt(num / den);
    // Bit-equal here; one handed-on value one grid step off moves it by about 1e-3.
    EXPECT_NEAR(errors.at(name).relative_error, expected, 1e-5 * expected) << name;
  };
  auto hessian_of = [](const std::vector<float>& x, int64_t tokens, int64_t cols) {
    Hessian h = make_hessian(cols);
    hessian_add(h, x.data(), tokens);
    return h;
  };
  std::vector<float> x(static_cast<size_t>(T * dim));  // [T, dim]
  const size_t ctx = windows[0].size();
  for (size_t w = 0; w < windows.size(); ++w)
    for (size_t i = 0; i < ctx; ++i) weights->embed(x.data() + (w * ctx + i) * dim, windows[w][i]);
  std::vector<float> xn(x.size());  // [T, dim]
  block_rmsnorm(xn.data(), x.data(), b.attn_norm.data(), T, dim, cfg.rms_eps);
  const Hessian h_qkv = hessian_of(xn, T, dim);
  expect_error("attn_q.weight", original.wq, b.wq, h_qkv);
  expect_error("attn_k.weight", original.wk, b.wk, h_qkv);
  expect_error("attn_v.weight", original.wv, b.wv, h_qkv);
  {  // GPTQ's own dequantized values on that Hessian
    GptqOptions o;
    o.grid = g;
    o.group_size = 32;
    o.keep_zeros = true;
    const QuantizedMatrix q = gptq_quantize(original.wq.data(), cfg.q_dim(), dim, h_qkv, o);
    const QuantizedMatrix& m = ints.at("blk.0.attn_q.weight");
    EXPECT_EQ(q.codes, m.codes);
    EXPECT_EQ(q.scales, m.scales);
    EXPECT_EQ(q.zeros, m.zeros);
    const std::vector<float> w_hat = dequantize_codes(q);
    ASSERT_EQ(q.dequantized.size(), w_hat.size());
    for (size_t i = 0; i < w_hat.size(); ++i) ASSERT_EQ(q.dequantized[i], w_hat[i]) << "element " << i;
  }
  const int64_t q_dim = static_cast<int64_t>(b.wq.size()) / dim;
  std::vector<float> att(static_cast<size_t>(T * q_dim));  // [T, q_dim]
  block_attention(att.data(), xn.data(), b, cfg, rope, static_cast<int64_t>(windows.size()));
  expect_error("attn_output.weight", original.wo, b.wo, hessian_of(att, T, q_dim));
  block_add_attn_output(x.data(), att.data(), b, cfg, T);
  block_rmsnorm(xn.data(), x.data(), b.ffn_norm.data(), T, dim, cfg.rms_eps);
  const Hessian h_gate_up = hessian_of(xn, T, dim);
  expect_error("ffn_gate.weight", original.w_gate, b.w_gate, h_gate_up);
  expect_error("ffn_up.weight", original.w_up, b.w_up, h_gate_up);
  const int64_t hidden = static_cast<int64_t>(b.w_up.size()) / dim;
  std::vector<float> act(static_cast<size_t>(T * hidden));  // [T, hidden]
  block_ffn_act(act.data(), xn.data(), b, cfg, T);
  expect_error("ffn_down.weight", original.w_down, b.w_down, hessian_of(act, T, hidden));
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
