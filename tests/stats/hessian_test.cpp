// Hessian accumulation against a naive 2/N·Σ x·xᵀ, over several batches of
// different sizes (so the running average's rescaling is exercised).
#include "stats/hessian.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"

namespace lmpack {
namespace {

std::vector<float> random_rows(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  std::vector<float> x(rows * cols);
  for (float& v : x) v = dist(gen);
  return x;
}

TEST(Hessian, KnownValue) {
  Hessian h = make_hessian(2);
  const float x[] = {1, 2};
  hessian_add(h, x, 1);
  EXPECT_EQ(h.samples, 1);
  EXPECT_DOUBLE_EQ(h.h[0], 2);
  EXPECT_DOUBLE_EQ(h.h[1], 4);
  EXPECT_DOUBLE_EQ(h.h[2], 4);
  EXPECT_DOUBLE_EQ(h.h[3], 8);
  const float y[] = {0, 1, 3, 0};  // N = 3: H = 2/3 · ([1 2; 2 4] + [0 0; 0 1] + [9 0; 0 0])
  hessian_add(h, y, 2);
  EXPECT_EQ(h.samples, 3);
  EXPECT_NEAR(h.h[0], 2.0 / 3 * 10, 1e-14);
  EXPECT_NEAR(h.h[1], 2.0 / 3 * 2, 1e-14);
  EXPECT_NEAR(h.h[3], 2.0 / 3 * 5, 1e-14);
}

TEST(Hessian, MatchesNaiveOverBatches) {
  const int64_t cols = 37;
  const std::vector<int64_t> batches = {5, 300, 1, 0, 513};
  Hessian h = make_hessian(cols);
  std::vector<double> naive(cols * cols, 0.0);
  int64_t total = 0;
  uint32_t seed = 1;
  for (int64_t rows : batches) {
    const std::vector<float> x = random_rows(rows, cols, seed++);
    hessian_add(h, x.data(), rows);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < cols; ++i)
        for (int64_t j = 0; j < cols; ++j)
          naive[i * cols + j] += static_cast<double>(x[r * cols + i]) * x[r * cols + j];
    total += rows;
    ASSERT_EQ(h.samples, total);
    for (int64_t k = 0; k < cols * cols; ++k)
      ASSERT_NEAR(h.h[k], 2.0 * naive[k] / total, 1e-10 * (1.0 + std::abs(naive[k] / total))) << "entry " << k;
  }
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j) ASSERT_EQ(h.h[i * cols + j], h.h[j * cols + i]);
}

TEST(Hessian, RejectsBadInput) {
  EXPECT_THROW(make_hessian(0), Error);
  Hessian h = make_hessian(3);
  const float x[3] = {1, 2, 3};
  EXPECT_THROW(hessian_add(h, x, -1), Error);
  Hessian empty;
  EXPECT_THROW(hessian_add(empty, x, 1), Error);
}

}  // namespace
}  // namespace lmpack
