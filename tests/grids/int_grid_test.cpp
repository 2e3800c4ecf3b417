// Integer group grid: exact scale/zero/codes on hand-worked inputs, the
// round-trip bound on random groups for every bit width, and the MSE clip
// search never doing worse than plain min-max.
#include "grids/int_grid.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"

namespace lmpack {
namespace {

TEST(IntGrid, AsymmetricExactCodes) {
  // xmin = -1, xmax = 2, 2 bits: scale = 3/3 = 1, zero = round(1) = 1.
  const float w[] = {-1.0f, 0.0f, 0.5f, 2.0f};
  const IntGroupParams p = find_params(w, 4, {.bits = 2, .symmetric = false});
  EXPECT_FLOAT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero, 1);
  EXPECT_EQ(p.maxq, 3);
  EXPECT_EQ(quantize_value(-1.0f, p), 0);
  EXPECT_EQ(quantize_value(0.0f, p), 1);
  EXPECT_EQ(quantize_value(0.5f, p), 1);  // 0.5 rounds to even 0, + zero
  EXPECT_EQ(quantize_value(2.0f, p), 3);
  EXPECT_EQ(quantize_value(9.0f, p), 3);    // clamped
  EXPECT_EQ(quantize_value(-9.0f, p), 0);   // clamped
  EXPECT_FLOAT_EQ(dequantize(3, p), 2.0f);
  EXPECT_FLOAT_EQ(dequantize(0, p), -1.0f);
}

TEST(IntGrid, AsymmetricRangeIncludesZero) {
  // All positive: xmin is pulled to 0, so zero = 0 and scale = 5 / 15.
  const float w[] = {2.0f, 5.0f, 3.0f};
  const IntGroupParams p = find_params(w, 3, {.bits = 4});
  EXPECT_FLOAT_EQ(p.scale, 5.0f / 15.0f);
  EXPECT_EQ(p.zero, 0);
  EXPECT_EQ(quantize_value(5.0f, p), 15);
  EXPECT_EQ(quantize_value(2.0f, p), 6);
}

TEST(IntGrid, SymmetricExactCodes) {
  // max|w| = 3.75, 4 bits: scale = 7.5 / 15 = 0.5, zero = 8.
  const float w[] = {-3.75f, 1.5f, 0.0f};
  const IntGroupParams p = find_params(w, 3, {.bits = 4, .symmetric = true});
  EXPECT_FLOAT_EQ(p.scale, 0.5f);
  EXPECT_EQ(p.zero, 8);
  EXPECT_EQ(quantize_value(-3.75f, p), 0);  // -7.5 rounds to even -8
  EXPECT_EQ(quantize_value(1.5f, p), 11);
  EXPECT_EQ(quantize_value(0.0f, p), 8);
  EXPECT_FLOAT_EQ(round_to_grid(-3.75f, p), -4.0f);
  // A symmetric group with no negative value still gets [-max, max].
  const float positive[] = {1.0f, 3.75f};
  const IntGroupParams q = find_params(positive, 2, {.bits = 4, .symmetric = true});
  EXPECT_FLOAT_EQ(q.scale, 0.5f);
  EXPECT_EQ(q.zero, 8);
  EXPECT_EQ(quantize_value(3.75f, q), 15);  // 7.5 rounds to 8, clamped to 15
}

TEST(IntGrid, AllZeroGroup) {
  const float w[] = {0.0f, 0.0f};
  for (bool symmetric : {false, true}) {
    const IntGroupParams p = find_params(w, 2, {.bits = 4, .symmetric = symmetric});
    EXPECT_FLOAT_EQ(p.scale, 2.0f / 15.0f);
    // Symmetric: 2^(bits-1). Asymmetric: round(1 / (2/15)) where the float
    // quotient lands just under 7.5 (torch float32 gives the same 7).
    EXPECT_EQ(p.zero, symmetric ? 8 : 7);
    EXPECT_EQ(round_to_grid(0.0f, p), 0.0f);
  }
}

class IntGridRoundTrip : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(IntGridRoundTrip, ErrorWithinHalfStep) {
  const auto [bits, symmetric] = GetParam();
  const IntGridSpec spec{.bits = bits, .symmetric = symmetric};
  std::mt19937 gen(bits * 2 + symmetric);
  std::normal_distribution<float> dist(0.3f, 1.0f);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> w(32);
    for (float& v : w) v = dist(gen);
    const IntGroupParams p = find_params(w.data(), 32, spec);
    ASSERT_EQ(p.maxq, (1 << bits) - 1);
    ASSERT_GE(p.zero, 0);
    ASSERT_LE(p.zero, p.maxq);
    ASSERT_GT(p.scale, 0.0f);
    EXPECT_EQ(round_to_grid(0.0f, p), 0.0f) << "zero must be exact";
    for (float x : w) {
      const int32_t q = quantize_value(x, p);
      ASSERT_GE(q, 0);
      ASSERT_LE(q, p.maxq);
      const float xq = dequantize(q, p);
      // Asymmetric covers [min, max] up to the zero point's rounding; the
      // symmetric grid's top code sits one step short of +max.
      const float bound = symmetric && x > 0 ? 1.0f * p.scale : 0.5f * p.scale;
      ASSERT_LE(std::fabs(xq - x), bound * 1.0001f + 1e-6f) << "x " << x << " bits " << bits;
      ASSERT_EQ(quantize_value(xq, p), q) << "grid points are fixed points";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Bits, IntGridRoundTrip,
                         ::testing::Combine(::testing::Values(2, 3, 4, 8), ::testing::Bool()));

double lp_error(const std::vector<float>& w, const IntGroupParams& p, double norm) {
  double e = 0.0;
  for (float x : w) e += std::pow(std::fabs(round_to_grid(x, p) - x), norm);
  return e;
}

TEST(IntGrid, MseClipNeverWorseAndHelpsOutliers) {
  std::mt19937 gen(5);
  std::normal_distribution<float> dist;
  int strictly_better = 0;
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<float> w(128);
    for (float& v : w) v = dist(gen);
    w[trial % 128] = 12.0f;  // one outlier stretches the min-max range
    for (bool symmetric : {false, true}) {
      IntGridSpec spec{.bits = 3, .symmetric = symmetric};
      const IntGroupParams plain = find_params(w.data(), 128, spec);
      spec.mse_clip = true;
      const IntGroupParams clipped = find_params(w.data(), 128, spec);
      const double e_plain = lp_error(w, plain, spec.norm), e_clip = lp_error(w, clipped, spec.norm);
      ASSERT_LE(e_clip, e_plain * (1 + 1e-5));
      if (e_clip < 0.9 * e_plain) ++strictly_better;
    }
  }
  EXPECT_GE(strictly_better, 50);
}

TEST(IntGrid, MinZeroKeepsTheRangeOfNonNegativeGroups) {
  const std::vector<float> w = {0.0f, 0.5f, 1.0f, 1.5f, 3.0f};  // min 0: the plain zero point is 0
  IntGridSpec spec{.bits = 4};
  EXPECT_EQ(find_params(w.data(), 5, spec).zero, 0);
  spec.min_zero = 1;
  const IntGroupParams p = find_params(w.data(), 5, spec);
  EXPECT_EQ(p.zero, 1);
  EXPECT_FLOAT_EQ(p.scale, 3.0f / 14.0f);
  EXPECT_FLOAT_EQ(round_to_grid(3.0f, p), 3.0f) << "the top of the range stays representable";
  EXPECT_FLOAT_EQ(round_to_grid(0.0f, p), 0.0f);
  const std::vector<float> mixed = {-1.0f, 2.0f};
  EXPECT_EQ(find_params(mixed.data(), 2, spec).zero, find_params(mixed.data(), 2, IntGridSpec{.bits = 4}).zero)
      << "groups with a negative value are unaffected";
  EXPECT_THROW(validate_int_grid({.bits = 4, .min_zero = 2}), Error);
}

TEST(IntGrid, RejectsBadSpec) {
  EXPECT_THROW(validate_int_grid({.bits = 5}), Error);
  EXPECT_THROW(validate_int_grid({.bits = 1}), Error);
  EXPECT_THROW(validate_int_grid({.bits = 4, .mse_clip = true, .max_shrink = 1.5f}), Error);
  EXPECT_NO_THROW(validate_int_grid({.bits = 8, .symmetric = true}));
}

}  // namespace
}  // namespace lmpack
