// Matrix round trips (methods/round_trip.h): the integer group round trip is
// exactly the RTN baseline of methods/gptq.h (and find_params with importance
// when given), the format round trip exactly quantize_row + dequantize_row,
// on real stories260K weights; shapes that do not fit throw.
#include "methods/round_trip.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/error.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "methods/gptq.h"
#include "model/checkpoint.h"
#include "runtime/weights.h"
#include "test_paths.h"

namespace lmpack {
namespace {

struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> w;
};

// blk.0.ffn_up of stories260K: [172, 64] (a real trained matrix).
const Matrix& real_matrix() {
  static const Matrix m = [] {
    const Checkpoint ckpt = load_checkpoint(testing::shared_path("models/stories260K/stories260K.gguf"));
    auto weights = build_weights(ckpt);
    const ModelConfig& c = weights->config;
    const float* w = weights->reference().layers[0].w_up;
    return Matrix{c.hidden_dim, c.dim, std::vector<float>(w, w + c.hidden_dim * c.dim)};
  }();
  return m;
}

std::vector<float> random_importance(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::exponential_distribution<float> dist(1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

TEST(IntGroupRoundTrip, EqualsRtnBaseline) {
  LMPACK_REQUIRE_SHARED();
  const Matrix& m = real_matrix();
  for (const int bits : {2, 3, 4, 8})
    for (const bool symmetric : {false, true})
      for (const int64_t gs : {int64_t{32}, int64_t{48}, int64_t{-1}}) {  // 48: a short last group
        IntGridSpec g;
        g.bits = bits;
        g.symmetric = symmetric;
        std::vector<float> out(m.w.size());
        int_group_round_trip(g, gs)(out.data(), m.w.data(), m.rows, m.cols);
        const QuantizedMatrix rtn = rtn_quantize(m.w.data(), m.rows, m.cols, g, gs);
        ASSERT_EQ(out, rtn.dequantized) << bits << " " << symmetric << " " << gs;
      }
}

TEST(IntGroupRoundTrip, UsesImportance) {
  LMPACK_REQUIRE_SHARED();
  const Matrix& m = real_matrix();
  IntGridSpec g;
  g.bits = 3;
  const std::vector<float> imp = random_importance(m.cols, 1);
  std::vector<float> out(m.w.size()), plain(m.w.size());
  int_group_round_trip(g, 32, imp.data())(out.data(), m.w.data(), m.rows, m.cols);
  int_group_round_trip(g, 32)(plain.data(), m.w.data(), m.rows, m.cols);
  EXPECT_NE(out, plain);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t g0 = 0; g0 < m.cols; g0 += 32) {
      const float* w = m.w.data() + r * m.cols + g0;
      const IntGroupParams p = find_params(w, 32, g, imp.data() + g0);
      for (int64_t c = 0; c < 32; ++c) ASSERT_EQ(out[r * m.cols + g0 + c], round_to_grid(w[c], p));
    }
}

TEST(FormatRoundTrip, EqualsQuantizeDequantizeRow) {
  LMPACK_REQUIRE_SHARED();
  const Matrix& m = real_matrix();
  const std::vector<float> imp = random_importance(m.cols, 2);
  for (const DType type : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q8_0, DType::IQ4_NL})
    for (const bool with_importance : {false, true}) {
      const FormatOps& ops = format_ops(type);
      std::vector<float> out(m.w.size()), want(m.w.size());
      format_round_trip(type, with_importance ? imp.data() : nullptr)(out.data(), m.w.data(), m.rows, m.cols);
      std::vector<uint8_t> buf(dtype_bytes(type, m.cols));
      for (int64_t r = 0; r < m.rows; ++r) {
        ops.quantize_row(buf.data(), m.w.data() + r * m.cols, m.cols, with_importance ? imp.data() : nullptr);
        ops.dequantize_row(want.data() + r * m.cols, buf.data(), m.cols);
      }
      ASSERT_EQ(out, want) << dtype_name(type) << " importance " << with_importance;
      EXPECT_NE(out, m.w) << dtype_name(type);  // it really quantized
    }
  std::vector<float> out(m.w.size());
  format_round_trip(DType::F32)(out.data(), m.w.data(), m.rows, m.cols);
  EXPECT_EQ(out, m.w);
}

TEST(RoundTripErrors, BadShapesThrow) {
  IntGridSpec g;
  EXPECT_THROW(int_group_round_trip(g, 0), Error);
  g.bits = 5;
  EXPECT_THROW(int_group_round_trip(g, 32), Error);
  std::vector<float> in(2 * 48, 0.5f), out(in.size());
  g.bits = 4;
  EXPECT_THROW(int_group_round_trip(g, 32)(out.data(), nullptr, 2, 48), Error);
  EXPECT_THROW(int_group_round_trip(g, 32)(out.data(), in.data(), 2, 0), Error);
  EXPECT_THROW(format_round_trip(DType::Q4_0)(out.data(), in.data(), 2, 48), Error);  // 48 is not 32·k
  EXPECT_THROW(format_round_trip(DType::I32), Error);  // no format ops
  try {
    format_round_trip(DType::Q4_0)(out.data(), in.data(), 2, 48);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("round trip: q4_0 rows must be a multiple of 32 values, got 48"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace lmpack
