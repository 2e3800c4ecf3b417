// qmatmul_xwt against decode-then-fp32-matmul, for every weight type with a
// dot product: m = 1, 3, 128 (generation, a short prompt, a long one), odd n,
// both paths (dots, decoded tiles + sgemm), with and without accumulate.
//
// Two oracles per case:
//   exact   the weights decoded and the activations rounded through the
//           dot type (quantize_row + dequantize_row): the dot path must
//           match it to float rounding, so a wrong block layout, scale or
//           tail shows at once;
//   fp32    the weights decoded, the activations as given: both paths must
//           be within the activation-quantization error of it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "formats/decode.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "formats/qmatmul.h"
#include "kernels/matmul.h"

namespace lmpack {
namespace {

const DType kWeightTypes[] = {DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                              DType::Q5_1, DType::Q8_0, DType::IQ4_NL, DType::Q2_K, DType::Q3_K,
                              DType::Q4_K, DType::Q5_K, DType::Q6_K};

std::vector<float> random_vector(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

float max_abs(const std::vector<float>& v) {
  float m = 0.0f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// A random [n, k] matrix stored as `type`, and its decoded fp32 values.
struct Packed {
  std::vector<uint8_t> bytes;
  std::vector<float> decoded;  // [n, k]
  WeightMatrix view() const { return WeightMatrix{type, bytes.data(), n, k}; }
  DType type;
  int64_t n, k;
};

Packed pack(DType type, int64_t n, int64_t k, uint32_t seed) {
  const FormatOps& ops = format_ops(type);
  Packed p{{}, {}, type, n, k};
  const std::vector<float> w = random_vector(n * k, seed, 0.02f);
  const size_t row = dtype_bytes(type, k);
  p.bytes.resize(row * n);
  p.decoded.resize(static_cast<size_t>(n * k));
  for (int64_t r = 0; r < n; ++r) {
    ops.quantize_row(p.bytes.data() + r * row, w.data() + r * k, k, nullptr);
    ops.dequantize_row(p.decoded.data() + r * k, p.bytes.data() + r * row, k);
  }
  return p;
}

class QmatmulTest : public ::testing::TestWithParam<DType> {};

TEST_P(QmatmulTest, MatchesDecodedMatmul) {
  const DType type = GetParam();
  const FormatOps* ops = find_format_ops(type);
  if (ops == nullptr || ops->dot == nullptr || ops->quantize_row == nullptr)
    GTEST_SKIP() << dtype_name(type) << " has no format ops in this build yet";
  ASSERT_TRUE(qmatmul_supported(type));
  const int64_t k = 512, n = 67;  // k: two super-blocks; n odd
  const Packed w = pack(type, n, k, 7);
  const FormatOps& act = format_ops(ops->dot_type);
  const size_t act_row = dtype_bytes(ops->dot_type, k);

  for (int64_t m : {1, 3, 128}) {
    const std::vector<float> x = random_vector(m * k, 100 + static_cast<uint32_t>(m), 1.0f);
    // x rounded through the activation type, as the dots see it.
    std::vector<float> xq(x.size());
    std::vector<uint8_t> tmp(act_row);
    for (int64_t i = 0; i < m; ++i) {
      if (ops->dot_type == DType::F32) {
        std::copy(x.begin() + i * k, x.begin() + (i + 1) * k, xq.begin() + i * k);
        continue;
      }
      act.quantize_row(tmp.data(), x.data() + i * k, k, nullptr);
      act.dequantize_row(xq.data() + i * k, tmp.data(), k);
    }
    std::vector<float> fp32(m * n), exact(m * n);
    matmul_xwt_reference(fp32.data(), x.data(), w.decoded.data(), m, n, k);
    matmul_xwt_reference(exact.data(), xq.data(), w.decoded.data(), m, n, k);
    const float scale = max_abs(fp32);
    ASSERT_GT(scale, 0.0f);

    for (QmatmulPath path : {QmatmulPath::kDot, QmatmulPath::kDequantGemm, QmatmulPath::kAuto}) {
      SCOPED_TRACE(testing::Message() << dtype_name(type) << " m=" << m << " path=" << static_cast<int>(path));
      QuantizedActivations xa;
      xa.set(x.data(), m, k);
      std::vector<float> y(m * n, 0.0f);
      qmatmul_xwt(y.data(), xa, w.view(), false, path);
      if (path == QmatmulPath::kDot) {
        // Dots of the rounded activations: float rounding only (Q8_1's
        // block sums are kept in fp16, hence the 2e-3).
        EXPECT_LT(max_abs_diff(y, exact), 2e-3f * scale);
      } else if (path == QmatmulPath::kDequantGemm) {
        EXPECT_LT(max_abs_diff(y, fp32), 1e-4f * scale);
      }
      // Every path within the activation-quantization error of fp32.
      EXPECT_LT(max_abs_diff(y, fp32), 2e-2f * scale);

      // accumulate adds onto y.
      std::vector<float> acc = random_vector(m * n, 5, 1.0f);
      std::vector<float> expect(acc);
      for (size_t i = 0; i < expect.size(); ++i) expect[i] += y[i];
      qmatmul_xwt(acc.data(), xa, w.view(), true, path);
      EXPECT_LT(max_abs_diff(acc, expect), 1e-4f * (scale + 1.0f));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QmatmulTest, ::testing::ValuesIn(kWeightTypes),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

TEST(Qmatmul, F32WeightsAreSgemm) {
  const int64_t m = 3, n = 9, k = 40;
  const std::vector<float> x = random_vector(m * k, 1, 1.0f), w = random_vector(n * k, 2, 1.0f);
  std::vector<float> y(m * n), ref(m * n);
  QuantizedActivations xa;
  xa.set(x.data(), m, k);
  qmatmul_xwt(y.data(), xa, WeightMatrix{DType::F32, w.data(), n, k});
  matmul_xwt_reference(ref.data(), x.data(), w.data(), m, n, k);
  EXPECT_LT(max_abs_diff(y, ref), 1e-4f);
  EXPECT_TRUE(qmatmul_supported(DType::F32));
}

TEST(Qmatmul, ActivationsQuantizedOncePerInput) {
  const FormatOps* ops = find_format_ops(DType::Q8_0);
  if (ops == nullptr || ops->quantize_row == nullptr) GTEST_SKIP() << "q8_0 has no format ops in this build yet";
  const int64_t m = 2, k = 64;
  std::vector<float> x = random_vector(m * k, 3, 1.0f);
  QuantizedActivations xa;
  xa.set(x.data(), m, k);
  const uint8_t* first = xa.rows(DType::Q8_0);
  std::vector<uint8_t> copy(first, first + m * dtype_bytes(DType::Q8_0, k));
  // Same input: no new quantization (changing x behind its back shows it).
  x[0] += 100.0f;
  EXPECT_EQ(xa.rows(DType::Q8_0), first);
  EXPECT_TRUE(std::equal(copy.begin(), copy.end(), xa.rows(DType::Q8_0)));
  // set() forgets it.
  xa.set(x.data(), m, k);
  const uint8_t* again = xa.rows(DType::Q8_0);
  EXPECT_FALSE(std::equal(copy.begin(), copy.end(), again));
  EXPECT_EQ(xa.rows(DType::F32), reinterpret_cast<const uint8_t*>(x.data()));
}

}  // namespace
}  // namespace lmpack
