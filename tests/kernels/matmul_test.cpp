// matmul_xwt (oneDNN) against the triple-loop reference over edge sizes:
// m = 1 (a generation step), odd n, k not a multiple of 16, accumulate.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace lmpack {
namespace {

std::vector<float> random_vector(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

struct Shape {
  int64_t m, n, k;
};

class MatmulTest : public ::testing::TestWithParam<Shape> {};

TEST_P(MatmulTest, MatchesReference) {
  const auto [m, n, k] = GetParam();
  const std::vector<float> x = random_vector(m * k, 1), w = random_vector(n * k, 2);
  for (bool accumulate : {false, true}) {
    std::vector<float> y = random_vector(m * n, 3), y_ref = y;
    matmul_xwt(y.data(), x.data(), w.data(), m, n, k, accumulate);
    matmul_xwt_reference(y_ref.data(), x.data(), w.data(), m, n, k, accumulate);
    const float tol = 1e-5f * std::sqrt(static_cast<float>(k)) * 4;
    for (int64_t i = 0; i < m * n; ++i)
      ASSERT_NEAR(y[i], y_ref[i], tol) << "m " << m << " n " << n << " k " << k << " accumulate " << accumulate
                                       << " at " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(EdgeSizes, MatmulTest,
                         ::testing::Values(Shape{1, 1, 1}, Shape{1, 17, 33}, Shape{1, 172, 64}, Shape{3, 5, 7},
                                           Shape{7, 31, 15}, Shape{16, 64, 16}, Shape{33, 65, 129},
                                           Shape{100, 172, 64}, Shape{2, 511, 1000}, Shape{64, 3, 255}));

TEST(Matmul, KnownValues) {
  // x = [[1, 2], [3, 4]], w = [[1, 0], [0, 1], [1, 1]] -> y = x wᵀ = [[1, 2, 3], [3, 4, 7]].
  const float x[] = {1, 2, 3, 4}, w[] = {1, 0, 0, 1, 1, 1};
  float y[6];
  matmul_xwt(y, x, w, 2, 3, 2);
  const float expected[] = {1, 2, 3, 3, 4, 7};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(y[i], expected[i]);
}

}  // namespace
}  // namespace lmpack
