// Cholesky and Cholesky-inverse against their defining identities on random
// symmetric positive definite matrices, and the not-positive-definite report.
#include "kernels/linalg.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace lmpack {
namespace {

// A = B·Bᵀ + n·I for a random B: well conditioned and positive definite.
std::vector<double> random_spd(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> dist;
  std::vector<double> b(n * n), a(n * n, 0.0);
  for (double& v : b) v = dist(gen);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = i == j ? static_cast<double>(n) : 0.0;
      for (int64_t k = 0; k < n; ++k) s += b[i * n + k] * b[j * n + k];
      a[i * n + j] = s;
    }
  return a;
}

class LinalgTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(LinalgTest, CholeskyReproducesMatrix) {
  const int64_t n = GetParam();
  const std::vector<double> a = random_spd(n, 7);
  std::vector<double> l = a;
  ASSERT_EQ(cholesky(l.data(), n), -1);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (j > i) {
        ASSERT_EQ(l[i * n + j], 0.0) << "upper entry " << i << "," << j;
      }
      double s = 0.0;
      for (int64_t k = 0; k < n; ++k) s += l[i * n + k] * l[j * n + k];
      ASSERT_NEAR(s, a[i * n + j], 1e-9 * n) << i << "," << j;
    }
}

TEST_P(LinalgTest, CholeskyInverseIsInverse) {
  const int64_t n = GetParam();
  const std::vector<double> a = random_spd(n, 11);
  std::vector<double> inv = a;
  ASSERT_EQ(cholesky(inv.data(), n), -1);
  cholesky_inverse(inv.data(), n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      ASSERT_EQ(inv[i * n + j], inv[j * n + i]) << "not symmetric at " << i << "," << j;
      double s = 0.0;
      for (int64_t k = 0; k < n; ++k) s += a[i * n + k] * inv[k * n + j];
      ASSERT_NEAR(s, i == j ? 1.0 : 0.0, 1e-10) << i << "," << j;
    }
}

INSTANTIATE_TEST_SUITE_P(Sizes, LinalgTest, ::testing::Values(1, 2, 5, 33, 100));

TEST(Linalg, KnownFactor) {
  // [[4, 2], [2, 5]] = L·Lᵀ with L = [[2, 0], [1, 2]]; inverse = [[5, -2], [-2, 4]] / 16.
  double a[] = {4, 2, 2, 5};
  ASSERT_EQ(cholesky(a, 2), -1);
  EXPECT_DOUBLE_EQ(a[0], 2);
  EXPECT_DOUBLE_EQ(a[1], 0);
  EXPECT_DOUBLE_EQ(a[2], 1);
  EXPECT_DOUBLE_EQ(a[3], 2);
  cholesky_inverse(a, 2);
  EXPECT_DOUBLE_EQ(a[0], 5.0 / 16);
  EXPECT_DOUBLE_EQ(a[1], -2.0 / 16);
  EXPECT_DOUBLE_EQ(a[2], -2.0 / 16);
  EXPECT_DOUBLE_EQ(a[3], 4.0 / 16);
}

TEST(Linalg, NotPositiveDefiniteReportsPivot) {
  double indefinite[] = {1, 2, 2, 1};  // eigenvalues 3 and -1
  EXPECT_EQ(cholesky(indefinite, 2), 1);
  double negative[] = {-1, 0, 0, 1};
  EXPECT_EQ(cholesky(negative, 2), 0);
  double nan_entry[] = {1, 0, 0, NAN};
  EXPECT_EQ(cholesky(nan_entry, 2), 1);
}

}  // namespace
}  // namespace lmpack
