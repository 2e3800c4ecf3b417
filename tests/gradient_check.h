// Finite-difference gradients for checking backward passes (kernels and the
// training layer): the loss is a scalar in double of float inputs, perturbed
// one element at a time by +-h (central differences, error O(h^2) plus the
// float rounding of the forward over 2h).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace lmpack::testing {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// d loss / d x[i] for each i in `indices` (all of x when empty); x is restored.
inline std::vector<double> numeric_gradient(float* x, size_t n, const std::function<double()>& loss, float h,
                                            const std::vector<size_t>& indices = {}) {
  std::vector<double> g(n, 0.0);
  auto one = [&](size_t i) {
    const float keep = x[i];
    x[i] = keep + h;
    const double up = loss();
    x[i] = keep - h;
    const double down = loss();
    x[i] = keep;
    g[i] = (up - down) / (2.0 * static_cast<double>(h));
  };
  if (indices.empty())
    for (size_t i = 0; i < n; ++i) one(i);
  else
    for (size_t i : indices) one(i);
  return g;
}

// Every checked element: |analytic - numeric| <= atol + rtol |numeric|. Also
// refuses a check that checks nothing (all gradients ~0).
inline void expect_gradient_near(const std::string& what, const float* analytic, const std::vector<double>& numeric,
                                 double atol, double rtol, const std::vector<size_t>& indices = {}) {
  std::vector<size_t> at = indices;
  if (at.empty())
    for (size_t i = 0; i < numeric.size(); ++i) at.push_back(i);
  double largest = 0.0;
  int bad = 0;
  for (size_t i : at) {
    largest = std::max(largest, std::fabs(numeric[i]));
    const double err = std::fabs(static_cast<double>(analytic[i]) - numeric[i]);
    if (err > atol + rtol * std::fabs(numeric[i]) && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: backward " << analytic[i] << ", finite differences " << numeric[i];
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << at.size() << " gradients off";
  EXPECT_GT(largest, 10 * atol) << what << ": every gradient is ~0, so the check proves nothing";
}

}  // namespace lmpack::testing
