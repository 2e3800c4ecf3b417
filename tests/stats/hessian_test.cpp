// Hessian accumulation against a naive 2/N·Σ x·xᵀ in double, over several
// batches of different sizes (so the running average's rescaling is
// exercised) and on an odd shape that spans several tiles and row chunks; the
// output error tr(Δ·H·Δᵀ) against ||Δ·Xᵀ||²·2/N computed from X directly.
//
// Tolerances: hessian_add sums each chunk of at most kChunkRows = 2048 rows
// in float (sgemm), so an entry's error is bounded by the classic bound for a
// float dot product of k terms, evaluated in any order (Higham, "Accuracy and
// Stability of Numerical Algorithms", §3.1): γ_k · Σ_r |x_ri·x_rj| with
// γ_k = k·u / (1 - k·u), u = 2⁻²⁴, k the chunk's row count; the double
// accumulation adds a relative error near 1e-16. This bound holds for every
// summation order sgemm may pick, so the tests cannot flake, and it is small
// enough to catch any lost chunk, tile or scale factor.
#include "stats/hessian.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// γ_k of the float dot-product error bound (see the top of this file).
double gamma_float(int64_t k) {
  const double ku = static_cast<double>(k) * std::ldexp(1.0, -24);
  return ku / (1.0 - ku);
}

// Correlated inputs [rows, cols]: x = z·A + 0.3·ε with 8 latent factors z,
// one fixed mixing A (seeded by cols) and per-column scales in [0.1, 10] (a few large columns,
// as in real activations).
std::vector<float> correlated_rows(int64_t rows, int64_t cols, uint32_t seed) {
  constexpr int64_t kLatent = 8;
  std::mt19937 gen_a(static_cast<uint32_t>(cols));
  std::normal_distribution<float> dist;
  std::vector<float> a(kLatent * cols), scale(cols);
  for (float& v : a) v = dist(gen_a);
  for (int64_t c = 0; c < cols; ++c) scale[c] = c % 97 == 5 ? 10.0f : 0.1f + static_cast<float>(c % 13) / 13.0f;
  std::mt19937 gen(seed);
  std::vector<float> x(rows * cols);
  std::vector<float> z(kLatent);
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : z) v = dist(gen);
    for (int64_t c = 0; c < cols; ++c) {
      float v = 0.3f * dist(gen);
      for (int64_t l = 0; l < kLatent; ++l) v += z[l] * a[l * cols + c];
      x[r * cols + c] = scale[c] * v;
    }
  }
  return x;
}

// Upper triangles of Σ x_i·x_j and Σ |x_i·x_j| over x [rows, cols], added
// into sum and abs_sum [cols, cols] in double.
void naive_add(std::vector<double>& sum, std::vector<double>& abs_sum, const std::vector<float>& x, int64_t rows,
               int64_t cols) {
  std::vector<double> xr(cols), ar(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      xr[c] = x[r * cols + c];
      ar[c] = std::abs(xr[c]);
    }
    for (int64_t i = 0; i < cols; ++i) {
      double* s = sum.data() + i * cols;
      double* a = abs_sum.data() + i * cols;
      const double xi = xr[i], ai = ar[i];
      for (int64_t j = i; j < cols; ++j) {
        s[j] += xi * xr[j];
        a[j] += ai * ar[j];
      }
    }
  }
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
  std::vector<double> naive(cols * cols, 0.0), naive_abs(cols * cols, 0.0);
  int64_t total = 0;
  uint32_t seed = 1;
  for (int64_t rows : batches) {
    const std::vector<float> x = random_rows(rows, cols, seed++);
    hessian_add(h, x.data(), rows);
    naive_add(naive, naive_abs, x, rows, cols);
    total += rows;
    ASSERT_EQ(h.samples, total);
    // Every batch fits one chunk: its float sum has at most 513 terms.
    const double gamma = gamma_float(513);
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = i; j < cols; ++j) {
        const double ref = 2.0 * naive[i * cols + j] / total;
        const double bound = gamma * 2.0 * naive_abs[i * cols + j] / total + 1e-12 * (1.0 + std::abs(ref));
        ASSERT_NEAR(h.h[i * cols + j], ref, bound) << "entry " << i << ", " << j << " after " << total << " rows";
      }
  }
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j) ASSERT_EQ(h.h[i * cols + j], h.h[j * cols + i]);
}

// 777 columns: two tiles of 512 and 265 (a partial tile on and off the
// diagonal); 1300 rows then 2100 rows: one chunk, then a full chunk of 2048
// and a tail of 52.
TEST(Hessian, OddShapeMatchesDoubleReference) {
  const int64_t cols = 777;
  const std::vector<int64_t> batches = {1300, 2100};
  Hessian h = make_hessian(cols);
  std::vector<double> naive(cols * cols, 0.0), naive_abs(cols * cols, 0.0);
  int64_t total = 0;
  uint32_t seed = 11;
  double worst = 0.0;  // largest |error| / (2/N·Σ|x_i·x_j|), for the message
  for (int64_t rows : batches) {
    const std::vector<float> x = correlated_rows(rows, cols, seed++);
    hessian_add(h, x.data(), rows);
    naive_add(naive, naive_abs, x, rows, cols);
    total += rows;
    ASSERT_EQ(h.samples, total);
    const double gamma = gamma_float(std::min<int64_t>(rows, 2048));
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = i; j < cols; ++j) {
        const double ref = 2.0 * naive[i * cols + j] / total;
        const double abs_ref = 2.0 * naive_abs[i * cols + j] / total;
        const double err = std::abs(h.h[i * cols + j] - ref);
        worst = std::max(worst, err / abs_ref);
        ASSERT_LE(err, gamma * abs_ref + 1e-12 * (1.0 + std::abs(ref)))
            << "entry " << i << ", " << j << " after " << total << " rows: " << h.h[i * cols + j] << " vs " << ref;
      }
  }
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < i; ++j) ASSERT_EQ(h.h[i * cols + j], h.h[j * cols + i]);
  RecordProperty("worst_relative_error", std::to_string(worst));
}

// tr(Δ·H·Δᵀ) against 2/N·||Δ·Xᵀ||²_F from the same X, in double. The float
// products of one sgemm tile (at most 512 terms of Δ·H per entry) and the
// float H give a relative error near 1e-6 for these well-conditioned
// inputs; 1e-4 leaves room without hiding a lost tile (≥ 1/4 of the sum).
TEST(Hessian, OutputErrorMatchesDirect) {
  const int64_t cols = 777, n = 1300, rows = 300;
  const std::vector<float> x = correlated_rows(n, cols, 21);
  Hessian h = make_hessian(cols);
  hessian_add(h, x.data(), n);
  const std::vector<float> w = random_rows(rows, cols, 22);
  std::vector<float> w_hat(w.size());
  for (size_t k = 0; k < w.size(); ++k) w_hat[k] = std::round(w[k] * 4.0f) / 4.0f;  // a coarse grid

  auto direct = [&](const float* a, const float* b) {  // 2/N·||(a - b)·Xᵀ||²
    std::vector<double> d(cols);
    double sum = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) d[c] = static_cast<double>(a[r * cols + c]) - (b ? b[r * cols + c] : 0.0f);
      for (int64_t t = 0; t < n; ++t) {
        double y = 0.0;
        for (int64_t c = 0; c < cols; ++c) y += d[c] * x[t * cols + c];
        sum += y * y;
      }
    }
    return 2.0 * sum / n;
  };
  const double full = hessian_output_error(w.data(), nullptr, rows, cols, h);
  const double full_ref = direct(w.data(), nullptr);
  EXPECT_NEAR(full, full_ref, 1e-4 * full_ref);
  const double err = hessian_output_error(w.data(), w_hat.data(), rows, cols, h);
  const double err_ref = direct(w.data(), w_hat.data());
  EXPECT_NEAR(err, err_ref, 1e-4 * err_ref);
  EXPECT_GT(full, 0.0);
  EXPECT_LT(err, full);  // the rounding error is well below the signal
  // One row only (a chunk of 1, below sgemm's threading threshold): the same value.
  const double one = hessian_output_error(w.data(), w_hat.data(), 1, cols, h);
  double one_ref = 0.0;
  {
    std::vector<double> d(cols);
    for (int64_t c = 0; c < cols; ++c) d[c] = static_cast<double>(w[c]) - w_hat[c];
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < cols; ++j) one_ref += d[i] * h.h[i * cols + j] * d[j];
  }
  EXPECT_NEAR(one, one_ref, 1e-4 * one_ref);
  EXPECT_EQ(hessian_output_error(w.data(), w.data(), rows, cols, h), 0.0);
  EXPECT_EQ(hessian_output_error(w.data(), nullptr, 0, cols, h), 0.0);
}

TEST(Hessian, OutputErrorRejectsMismatchedHessian) {
  Hessian h = make_hessian(4);
  const float w[6] = {1, 2, 3, 4, 5, 6};
  EXPECT_THROW(hessian_output_error(w, nullptr, 2, 3, h), Error);
  Hessian empty;
  EXPECT_THROW(hessian_output_error(w, nullptr, 2, 3, empty), Error);
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
