// The backward kernels against finite differences of their forward kernels:
// loss = sum_i c_i y_i for a fixed random c, so dy = c.
#include "kernels/ops_backward.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_check.h"
#include "kernels/ops.h"

namespace lmpack {
namespace {

using testing::expect_gradient_near;
using testing::numeric_gradient;
using testing::random_floats;

double weighted_sum(const std::vector<float>& c, const std::vector<float>& y) {
  double s = 0.0;
  for (size_t i = 0; i < y.size(); ++i) s += static_cast<double>(c[i]) * y[i];
  return s;
}

TEST(OpsBackward, RmsnormMatchesFiniteDifferences) {
  const int64_t n = 48;
  const float eps = 1e-5f;
  auto x = random_floats(n, 1, -2.0f, 2.0f), w = random_floats(n, 2, 0.5f, 1.5f), c = random_floats(n, 3);
  std::vector<float> y(n);
  auto loss = [&] {
    rmsnorm(y.data(), x.data(), w.data(), n, eps);
    return weighted_sum(c, y);
  };
  std::vector<float> dx(n), dw(n, 0.25f);  // dw accumulates onto what is there
  rmsnorm_backward(dx.data(), dw.data(), c.data(), x.data(), w.data(), n, eps);
  for (float& v : dw) v -= 0.25f;
  expect_gradient_near("dx", dx.data(), numeric_gradient(x.data(), n, loss, 1e-3f), 2e-3, 1e-2);
  expect_gradient_near("dw", dw.data(), numeric_gradient(w.data(), n, loss, 1e-3f), 2e-3, 1e-2);
  // dx may overwrite dy.
  std::vector<float> in_place = c, dw2(n, 0.0f);
  rmsnorm_backward(in_place.data(), dw2.data(), in_place.data(), x.data(), w.data(), n, eps);
  for (int64_t i = 0; i < n; ++i) EXPECT_FLOAT_EQ(in_place[i], dx[i]) << i;
}

TEST(OpsBackward, SiluMulMatchesFiniteDifferences) {
  const int64_t n = 40;
  auto gate = random_floats(n, 4, -4.0f, 4.0f), up = random_floats(n, 5, -2.0f, 2.0f), c = random_floats(n, 6);
  std::vector<float> y(n);
  auto loss = [&] {
    y = gate;
    silu_mul(y.data(), up.data(), n);
    return weighted_sum(c, y);
  };
  std::vector<float> dgate(n), dup(n);
  silu_mul_backward(dgate.data(), dup.data(), c.data(), gate.data(), up.data(), n);
  expect_gradient_near("dgate", dgate.data(), numeric_gradient(gate.data(), n, loss, 1e-3f), 2e-3, 1e-2);
  expect_gradient_near("dup", dup.data(), numeric_gradient(up.data(), n, loss, 1e-3f), 2e-3, 1e-2);
}

TEST(OpsBackward, RopeBackwardIsTheTransposedRotation) {
  const int64_t n_heads = 3, head_dim = 8, half = head_dim / 2;
  std::vector<float> inv_freq(half), cos(half), sin(half);
  rope_inv_freq(inv_freq.data(), head_dim, 10000.0f);
  rope_tables(cos.data(), sin.data(), inv_freq.data(), half, 37, 1);
  auto x = random_floats(n_heads * head_dim, 7), c = random_floats(n_heads * head_dim, 8);
  std::vector<float> y(x.size());
  auto loss = [&] {
    y = x;
    rope(y.data(), cos.data(), sin.data(), n_heads, head_dim);
    return weighted_sum(c, y);
  };
  std::vector<float> dx = c;
  rope_backward(dx.data(), cos.data(), sin.data(), n_heads, head_dim);
  expect_gradient_near("dx", dx.data(), numeric_gradient(x.data(), x.size(), loss, 1e-3f), 1e-3, 1e-2);
}

}  // namespace
}  // namespace lmpack
