// GPTQ onto the GGUF block grids (methods/gptq_format.h), property tests on
// synthetic layers (synthetic_layer.h): inputs X = Z·A (a random mixing A
// correlates the columns) with a few high-magnitude columns; the measure is GPTQ's
// objective, the output error ||W·Xᵀ - Ŵ·Xᵀ||_F computed directly. The
// baseline is the format's own encoder on the same weights and importance
// (rtn_quantize_format). Plus: the bytes decode to `dequantized` exactly,
// a diagonal Hessian reproduces the k-quant encoders byte for byte, the lazy
// batch width does not matter, and bad types and shapes are errors.
#include "methods/gptq_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "io/llama2c.h"
#include "synthetic_layer.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::Layer;
using testing::make_layer;
using testing::output_error;
using testing::shared_layer;

// m.dequantized is exactly the format's decode of m.data.
void expect_decodes(const QuantizedMatrix& m) {
  const FormatOps& ops = format_ops(m.type);
  const size_t row_bytes = dtype_bytes(m.type, m.cols);
  ASSERT_EQ(m.data.size(), static_cast<size_t>(m.rows) * row_bytes);
  ASSERT_EQ(m.dequantized.size(), static_cast<size_t>(m.rows * m.cols));
  std::vector<float> row(m.cols);
  for (int64_t r = 0; r < m.rows; ++r) {
    ops.dequantize_row(row.data(), m.data.data() + r * row_bytes, m.cols);
    ASSERT_EQ(std::memcmp(row.data(), m.dequantized.data() + r * m.cols, m.cols * sizeof(float)), 0) << "row " << r;
  }
}

// shared_layer(): 256 columns, one k-quant super-block or eight legacy blocks
// per row. The Hessian inverse (kernels/linalg.h, cubic in cols) dominates each run.

using Case = std::tuple<DType, bool>;  // format, with importance
class GptqFormatVsRtn : public ::testing::TestWithParam<Case> {};

TEST_P(GptqFormatVsRtn, NoWorseThanTheFormatsEncoder) {
  const auto [type, with_importance] = GetParam();
  const Layer& l = shared_layer();
  const float* imp = with_importance ? l.importance.data() : nullptr;
  const QuantizedMatrix g = gptq_quantize_format(l.w.data(), l.rows, l.cols, l.h, type, imp, {});
  const QuantizedMatrix r = rtn_quantize_format(l.w.data(), l.rows, l.cols, type, imp);
  EXPECT_EQ(g.type, type);
  EXPECT_EQ(g.rows, l.rows);
  EXPECT_EQ(g.cols, l.cols);
  expect_decodes(g);
  expect_decodes(r);
  const double eg = output_error(l, g.dequantized), er = output_error(l, r.dequantized);
  RecordProperty("ratio", std::to_string(eg / er));
  std::printf("%s importance %d: gptq %.4f rtn %.4f ratio %.3f\n", std::string(dtype_name(type)).c_str(),
              with_importance, eg, er, eg / er);
  EXPECT_LE(eg, er);
  // Error feedback must clearly pay off at 2-5 bits.
  if (type != DType::Q6_K && type != DType::Q8_0) {
    EXPECT_LE(eg, 0.9 * er);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, GptqFormatVsRtn,
                         ::testing::Combine(::testing::Values(DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K,
                                                              DType::Q6_K, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                                              DType::Q5_1, DType::Q8_0),
                                            ::testing::Bool()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(dtype_name(std::get<0>(info.param))) +
                                  (std::get<1>(info.param) ? "_importance" : "_plain");
                         });

// Uncorrelated inputs: U is diagonal, no error is fed forward, and each
// block's grid comes from the unchanged weights. The k-quant encoders round
// against their stored scales exactly as the sweep does, so the bytes match.
TEST(GptqFormat, DiagonalHessianIsTheKQuantEncoder) {
  const Layer& l = shared_layer();
  Hessian h = make_hessian(l.cols);
  for (int64_t i = 0; i < l.cols; ++i) h.h[i * l.cols + i] = 1.0 + 0.01 * (i % 7);
  for (DType type : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    for (const float* imp : {static_cast<const float*>(nullptr), l.importance.data()}) {
      const QuantizedMatrix g = gptq_quantize_format(l.w.data(), l.rows, l.cols, h, type, imp, {});
      const QuantizedMatrix r = rtn_quantize_format(l.w.data(), l.rows, l.cols, type, imp);
      EXPECT_EQ(g.data, r.data) << dtype_name(type) << (imp != nullptr ? " with importance" : "");
    }
  }
}

// Two super-blocks per row, so that k-quant blocks meet lazy-batch borders.
TEST(GptqFormat, BatchWidthDoesNotChangeResult) {
  const Layer l = make_layer(32, 512, 1024, 4, 5);
  for (DType type : {DType::Q4_K, DType::Q4_0}) {
    GptqFormatOptions o;
    o.block_size = l.cols;
    const QuantizedMatrix whole = gptq_quantize_format(l.w.data(), l.rows, l.cols, l.h, type, nullptr, o);
    const double e_whole = output_error(l, whole.dequantized);
    // Q4_K: 100 rounds up to one super-block; Q4_0: 7 rounds up to 32.
    o.block_size = type == DType::Q4_K ? 100 : 7;
    const QuantizedMatrix g = gptq_quantize_format(l.w.data(), l.rows, l.cols, l.h, type, nullptr, o);
    expect_decodes(g);
    int64_t differ = 0;
    for (size_t i = 0; i < g.dequantized.size(); ++i) differ += g.dequantized[i] != whole.dequantized[i];
    std::printf("%s: batch %ld vs %ld: %ld of %zu weights differ\n", std::string(dtype_name(type)).c_str(),
                static_cast<long>(o.block_size), static_cast<long>(l.cols), static_cast<long>(differ),
                g.dequantized.size());
    EXPECT_LE(differ, static_cast<int64_t>(g.dequantized.size() / 100)) << dtype_name(type);
    EXPECT_NEAR(output_error(l, g.dequantized), e_whole, 5e-3 * e_whole) << dtype_name(type);
  }
}

// A 50%-pruned layer: with keep_zeros every zero survives on the grids that
// hold 0, and GPTQ's error is still below the encoder's on the pruned weights.
TEST(GptqFormat, KeepZerosKeepsAPrunedLayerSparse) {
  const Layer& dense = shared_layer();
  std::vector<float> pruned = dense.w;
  for (size_t i = 0; i < pruned.size(); i += 2) pruned[i] = 0.0f;
  const Layer l = make_layer(dense.rows, dense.cols, 512, 4, 11, {.w = pruned.data()});
  GptqFormatOptions o;
  o.keep_zeros = true;
  for (DType type : {DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::Q3_K, DType::Q6_K, DType::Q4_K}) {
    SCOPED_TRACE(dtype_name(type));
    const QuantizedMatrix g = gptq_quantize_format(l.w.data(), l.rows, l.cols, l.h, type, nullptr, o);
    const QuantizedMatrix r = rtn_quantize_format(l.w.data(), l.rows, l.cols, type, nullptr);
    int64_t lost = 0;
    for (size_t i = 0; i < pruned.size(); i += 2) lost += g.dequantized[i] != 0.0f;
    if (type == DType::Q4_K) {
      std::printf("Q4_K (block minimums): %lld of %zu zeros not kept\n", static_cast<long long>(lost),
                  pruned.size() / 2);
    } else {
      EXPECT_EQ(lost, 0) << "a grid that holds 0 keeps every zero";
    }
    EXPECT_LT(output_error(l, g.dequantized), output_error(l, r.dequantized));
  }
  // Without keep_zeros the error feedback fills the zeros in.
  const QuantizedMatrix filled = gptq_quantize_format(l.w.data(), l.rows, l.cols, l.h, DType::Q8_0, nullptr, {});
  int64_t nonzero = 0;
  for (size_t i = 0; i < pruned.size(); i += 2) nonzero += filled.dequantized[i] != 0.0f;
  EXPECT_GT(nonzero, static_cast<int64_t>(pruned.size()) / 16) << "measured 3152 of 8192";
}

TEST(GptqFormat, DeadColumns) {
  Layer l = make_layer(32, 256, 512, 0, 9);
  testing::kill_columns(l, {0, 5, 100, 255});
  const QuantizedMatrix g = gptq_quantize_format(l.w.data(), l.rows, l.cols, l.h, DType::Q4_K, nullptr, {});
  expect_decodes(g);
  for (float v : g.dequantized) ASSERT_TRUE(std::isfinite(v));
  const double eg = output_error(l, g.dequantized);
  const double er = output_error(l, rtn_quantize_format(l.w.data(), l.rows, l.cols, DType::Q4_K, nullptr).dequantized);
  EXPECT_LT(eg, er);
}

TEST(GptqFormat, RejectsBadTypesAndShapes) {
  const Layer& l = shared_layer();
  for (DType type : {DType::IQ4_NL, DType::F16, DType::F32, DType::Q8_K}) {
    try {
      gptq_quantize_format(l.w.data(), l.rows, l.cols, l.h, type, nullptr, {});
      FAIL() << "expected an Error for " << dtype_name(type);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(dtype_name(type)), std::string::npos) << e.what();
    }
  }
  // 96 columns: three Q4_0 blocks but no whole k-quant super-block.
  const Hessian h96 = make_hessian(96);
  EXPECT_THROW(gptq_quantize_format(l.w.data(), l.rows, 96, h96, DType::Q4_K, nullptr, {}), Error);
  EXPECT_THROW(rtn_quantize_format(l.w.data(), l.rows, 96, DType::Q4_K, nullptr), Error);
  EXPECT_THROW(gptq_quantize_format(l.w.data(), l.rows, 100, make_hessian(100), DType::Q4_0, nullptr, {}), Error);
  // Hessian of the wrong width, bad options.
  EXPECT_THROW(gptq_quantize_format(l.w.data(), l.rows, l.cols, h96, DType::Q4_0, nullptr, {}), Error);
  GptqFormatOptions o;
  o.block_size = 0;
  EXPECT_THROW(gptq_quantize_format(l.w.data(), l.rows, l.cols, l.h, DType::Q4_0, nullptr, o), Error);
  o.block_size = 128;
  o.damp = -0.5;
  EXPECT_THROW(gptq_quantize_format(l.w.data(), l.rows, l.cols, l.h, DType::Q4_0, nullptr, o), Error);
  // Float types are fine for the baseline (its encoder), not for GPTQ.
  EXPECT_NO_THROW(rtn_quantize_format(l.w.data(), l.rows, l.cols, DType::F16, nullptr));
  EXPECT_NO_THROW(rtn_quantize_format(l.w.data(), l.rows, 96, DType::Q4_0, nullptr));  // 3 blocks
}

// Real trained weights (ts-llama-4.9M layer 0 wq, 256 x 256) under the
// synthetic correlated inputs.
TEST(GptqFormat, RealWeightsNoWorseThanEncoder) {
  LMPACK_REQUIRE_SHARED();
  const Llama2cFile f = read_llama2c(testing::shared_path("models/ts-llama-4.9M/ts-llama-4.9M.bin"));
  const TensorInfo wq = llama2c_layer_slice(f.tensor("wq"), 0, "wq0");
  const Layer l = make_layer(wq.rows(), wq.cols(), 1024, 3, 11, {.w = reinterpret_cast<const float*>(wq.data)});
  for (DType type : {DType::Q3_K, DType::Q4_K}) {
    const QuantizedMatrix g =
        gptq_quantize_format(l.w.data(), l.rows, l.cols, l.h, type, l.importance.data(), {});
    const QuantizedMatrix r = rtn_quantize_format(l.w.data(), l.rows, l.cols, type, l.importance.data());
    expect_decodes(g);
    const double eg = output_error(l, g.dequantized), er = output_error(l, r.dequantized);
    std::printf("ts-llama wq0 %s: gptq %.4f rtn %.4f ratio %.3f\n", std::string(dtype_name(type)).c_str(), eg, er,
                eg / er);
    EXPECT_LT(eg, 0.9 * er) << dtype_name(type);
  }
}

}  // namespace
}  // namespace lmpack
