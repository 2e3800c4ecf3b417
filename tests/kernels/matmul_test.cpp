// matmul_xwt (oneDNN) against the triple-loop reference over edge sizes:
// m = 1 (a generation step), odd n, k not a multiple of 16, accumulate.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "gradient_check.h"

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

// The backward of the linear layer against finite differences of
// matmul_xwt (loss = sum c . y), and the oneDNN path against the loops on a
// size that takes oneDNN's threaded path; accumulate_dx adds onto dx.
TEST(MatmulBackward, MatchesFiniteDifferencesAndReference) {
  const int64_t m = 5, n = 6, k = 7;
  auto x = testing::random_floats(m * k, 31), w = testing::random_floats(n * k, 32), c = testing::random_floats(m * n, 33);
  std::vector<float> y(m * n);
  auto loss = [&] {
    matmul_xwt(y.data(), x.data(), w.data(), m, n, k);
    double s = 0.0;
    for (int64_t i = 0; i < m * n; ++i) s += static_cast<double>(c[i]) * y[i];
    return s;
  };
  for (auto run : {&matmul_xwt_backward, &matmul_xwt_backward_reference}) {
    std::vector<float> dx(m * k, 9.0f), dw(n * k, 0.0f);
    run(dx.data(), dw.data(), c.data(), x.data(), w.data(), m, n, k, false);
    testing::expect_gradient_near("dx", dx.data(), testing::numeric_gradient(x.data(), x.size(), loss, 1e-3f), 2e-3, 1e-2);
    testing::expect_gradient_near("dw", dw.data(), testing::numeric_gradient(w.data(), w.size(), loss, 1e-3f), 2e-3, 1e-2);
    std::vector<float> dx2(m * k, 1.0f);
    run(dx2.data(), nullptr, c.data(), x.data(), w.data(), m, n, k, true);
    for (int64_t i = 0; i < m * k; ++i) EXPECT_NEAR(dx2[i], dx[i] + 1.0f, 1e-5f) << i;
  }
  const int64_t M = 200, N = 96, K = 80;
  auto X = testing::random_floats(M * K, 34), W = testing::random_floats(N * K, 35), D = testing::random_floats(M * N, 36);
  std::vector<float> dx1(M * K), dw1(N * K, 0.5f), dx2(M * K), dw2(N * K, 0.5f);
  matmul_xwt_backward(dx1.data(), dw1.data(), D.data(), X.data(), W.data(), M, N, K);
  matmul_xwt_backward_reference(dx2.data(), dw2.data(), D.data(), X.data(), W.data(), M, N, K);
  for (int64_t i = 0; i < M * K; ++i) EXPECT_NEAR(dx1[i], dx2[i], 1e-4f * (1.0f + std::fabs(dx2[i]))) << i;
  for (int64_t i = 0; i < N * K; ++i) EXPECT_NEAR(dw1[i], dw2[i], 1e-4f * (1.0f + std::fabs(dw2[i]))) << i;
}

}  // namespace
}  // namespace lmpack
