// The forward-pass kernels against naive loops written out in the test, and
// the fast versions against the *_reference ones over tail lengths.
#include "kernels/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace lmpack {
namespace {

std::vector<float> random_vector(size_t n, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

const int64_t kLengths[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 64, 100, 172, 1001};

TEST(Ops, DotMatchesDoubleSum) {
  for (int64_t n : kLengths) {
    auto a = random_vector(n, 1), b = random_vector(n, 2);
    double expected = 0;
    for (int64_t i = 0; i < n; ++i) expected += double(a[i]) * b[i];
    EXPECT_NEAR(dot(a.data(), b.data(), n), expected, 1e-5 * n) << n;
    EXPECT_NEAR(dot_reference(a.data(), b.data(), n), expected, 1e-5 * n) << n;
  }
}

TEST(Ops, RmsnormMatchesNaive) {
  for (int64_t n : kLengths) {
    auto x = random_vector(n, 3), w = random_vector(n, 4);
    double ss = 0;
    for (float v : x) ss += double(v) * v;
    const double scale = 1.0 / std::sqrt(ss / n + 1e-5);
    std::vector<float> out(n), out_ref(n), in_place = x;
    rmsnorm(out.data(), x.data(), w.data(), n, 1e-5f);
    rmsnorm_reference(out_ref.data(), x.data(), w.data(), n, 1e-5f);
    rmsnorm(in_place.data(), in_place.data(), w.data(), n, 1e-5f);
    for (int64_t i = 0; i < n; ++i) {
      const double expected = x[i] * scale * w[i];
      ASSERT_NEAR(out[i], expected, 1e-5 * (1 + std::fabs(expected))) << n << " " << i;
      ASSERT_NEAR(out_ref[i], expected, 1e-5 * (1 + std::fabs(expected))) << n << " " << i;
      ASSERT_EQ(in_place[i], out[i]);
    }
  }
}

TEST(Ops, SoftmaxMatchesNaiveAndSurvivesLargeValues) {
  for (int64_t n : kLengths) {
    auto x = random_vector(n, 5, -30.0f, 30.0f);
    x[n / 2] = 1000.0f;  // would overflow exp without the max subtraction
    std::vector<float> fast = x, ref = x;
    softmax(fast.data(), n);
    softmax_reference(ref.data(), n);
    double z = 0;
    for (float v : x) z += std::exp(double(v) - 1000.0);
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double expected = std::exp(double(x[i]) - 1000.0) / z;
      ASSERT_NEAR(fast[i], expected, 1e-6) << n << " " << i;
      ASSERT_NEAR(ref[i], expected, 1e-6) << n << " " << i;
      total += fast[i];
    }
    EXPECT_NEAR(total, 1.0, 1e-5);
  }
}

TEST(Ops, SiluMulAndAdd) {
  for (int64_t n : kLengths) {
    auto g = random_vector(n, 6, -8, 8), u = random_vector(n, 7);
    std::vector<float> out = g, y = u;
    silu_mul(out.data(), u.data(), n);
    add_inplace(y.data(), g.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double s = g[i] / (1.0 + std::exp(-double(g[i])));
      ASSERT_NEAR(out[i], s * u[i], 1e-5 * (1 + std::fabs(s * u[i])));
      ASSERT_FLOAT_EQ(y[i], u[i] + g[i]);
    }
  }
}

TEST(Ops, RopeFrequenciesAndTables) {
  const int64_t hd = 8;
  float inv[4];
  rope_inv_freq(inv, hd, 10000.0f);
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(inv[j], std::pow(10000.0, -2.0 * j / hd), 1e-7 * inv[j]);
  std::vector<float> c(3 * 4), s(3 * 4);
  rope_tables(c.data(), s.data(), inv, 4, 5, 3);  // positions 5, 6, 7
  for (int p = 0; p < 3; ++p)
    for (int j = 0; j < 4; ++j) {
      EXPECT_NEAR(c[p * 4 + j], std::cos((5 + p) * double(inv[j])), 1e-7);
      EXPECT_NEAR(s[p * 4 + j], std::sin((5 + p) * double(inv[j])), 1e-7);
    }
}

TEST(Ops, RopeRotatesAdjacentPairsPerHead) {
  const int64_t n_heads = 3, hd = 16, half = hd / 2;
  auto x = random_vector(n_heads * hd, 8);
  std::vector<float> inv(half), c(half), s(half);
  rope_inv_freq(inv.data(), hd, 10000.0f);
  rope_tables(c.data(), s.data(), inv.data(), half, 37, 1);
  std::vector<float> fast = x, ref = x;
  rope(fast.data(), c.data(), s.data(), n_heads, hd);
  rope_reference(ref.data(), c.data(), s.data(), n_heads, hd);
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t i = 0; i < hd; i += 2) {
      const double angle = 37.0 * std::pow(10000.0, -double(i) / hd);  // freq of pair i, i+1
      const double x0 = x[h * hd + i], x1 = x[h * hd + i + 1];
      const double e0 = x0 * std::cos(angle) - x1 * std::sin(angle);
      const double e1 = x0 * std::sin(angle) + x1 * std::cos(angle);
      EXPECT_NEAR(fast[h * hd + i], e0, 1e-5);
      EXPECT_NEAR(fast[h * hd + i + 1], e1, 1e-5);
      EXPECT_NEAR(ref[h * hd + i], e0, 1e-5);
      EXPECT_NEAR(ref[h * hd + i + 1], e1, 1e-5);
    }
}

// Partial rotary (Phi-4-mini): the first rotary_dims of each head turn as a
// head of that size would, the rest pass through untouched.
TEST(Ops, PartialRopeTurnsTheFirstDimensionsOnly) {
  const int64_t n_heads = 3, hd = 16, rot = 12, half = rot / 2;
  auto x = random_vector(n_heads * hd, 9);
  std::vector<float> inv(half), c(half), s(half);
  rope_inv_freq(inv.data(), rot, 10000.0f);
  rope_tables(c.data(), s.data(), inv.data(), half, 29, 1);
  std::vector<float> fast = x, ref = x;
  rope(fast.data(), c.data(), s.data(), n_heads, hd, rot);
  rope_reference(ref.data(), c.data(), s.data(), n_heads, hd, rot);
  for (int64_t h = 0; h < n_heads; ++h) {
    std::vector<float> head(x.begin() + h * hd, x.begin() + h * hd + rot);  // a whole head of rot dims
    rope_reference(head.data(), c.data(), s.data(), 1, rot);
    for (int64_t i = 0; i < hd; ++i) {
      const float expected = i < rot ? head[i] : x[h * hd + i];
      EXPECT_EQ(ref[h * hd + i], expected) << h << " " << i;
      EXPECT_NEAR(fast[h * hd + i], expected, 1e-6) << h << " " << i;
    }
    EXPECT_NE(head[0], x[h * hd]);
  }
}

TEST(Ops, RopeLlama3ScalingFollowsTheThreeBands) {
  // Llama 3.1 values: factor 8, low 1, high 4, original context 8192, theta 500000, head_dim 128.
  const int64_t hd = 128, half = 64;
  std::vector<float> base(half), scaled(half);
  rope_inv_freq(base.data(), hd, 500000.0f);
  scaled = base;
  rope_scale_llama3(scaled.data(), half, 8.0f, 1.0f, 4.0f, 8192);
  const double kPi = 3.14159265358979323846;
  int kept = 0, divided = 0, blended = 0;
  for (int64_t j = 0; j < half; ++j) {
    const double wavelen = 2 * kPi / base[j];
    if (wavelen < 8192.0 / 4) {
      EXPECT_EQ(scaled[j], base[j]);
      ++kept;
    } else if (wavelen > 8192.0) {
      EXPECT_NEAR(scaled[j], base[j] / 8.0, 1e-12 + 1e-6 * base[j]);
      ++divided;
    } else {
      const double smooth = (8192.0 / wavelen - 1.0) / 3.0;
      EXPECT_NEAR(scaled[j], (1 - smooth) * base[j] / 8 + smooth * base[j], 1e-6 * base[j]);
      EXPECT_LT(scaled[j], base[j]);
      EXPECT_GT(scaled[j], base[j] / 8);
      ++blended;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(divided, 0);
  EXPECT_GT(blended, 0);
}

}  // namespace
}  // namespace lmpack
