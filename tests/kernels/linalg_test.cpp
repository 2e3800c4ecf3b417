// Cholesky and Cholesky-inverse against their defining identities on random
// symmetric positive definite matrices, and the not-positive-definite report;
// the blocked mixed-precision routines against the same identities with
// float-rounding bounds, and GPTQ's inverse factor U = J·L'⁻¹·J (J·A·J = L'·L'ᵀ)
// against the three-step chol → cholesky_inverse → chol result in double.
#include "kernels/linalg.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <utility>
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

// Float's unit roundoff: the blocked routines' O(n³) products run in float.
constexpr double kFloatU = 1.0 / (1 << 24);

// A GPTQ-like Hessian: A = XᵀX/N + 0.01·mean(diag)·I for N = n/2 + 1 tokens
// of correlated columns (X = Z·B with B mixing neighbours, column scales
// spread over two decades), so XᵀX is rank deficient and the dampening sets
// the small end of the spectrum, as in GPTQ. Cached per n.
const std::vector<double>& hessian_like(int64_t n) {
  static std::map<int64_t, std::vector<double>> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  const int64_t tokens = n / 2 + 1;
  std::mt19937 gen(static_cast<uint32_t>(n));
  std::normal_distribution<double> dist;
  std::uniform_real_distribution<double> log_scale(0.0, std::log(100.0));
  std::vector<double> scale(n), x(tokens * n);
  for (double& v : scale) v = std::exp(log_scale(gen));
  for (int64_t t = 0; t < tokens; ++t) {
    double prev = 0.0;
    for (int64_t c = 0; c < n; ++c) {
      prev = 0.7 * prev + dist(gen);  // neighbouring columns correlated
      x[t * n + c] = prev * scale[c];
    }
  }
  std::vector<double> a(n * n, 0.0);
  for (int64_t t = 0; t < tokens; ++t) {
    const double* row = x.data() + t * n;
    for (int64_t i = 0; i < n; ++i) {
      const double xi = row[i];
      for (int64_t j = 0; j <= i; ++j) a[i * n + j] += xi * row[j];
    }
  }
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i) mean += a[i * n + i] / static_cast<double>(tokens);
  mean /= static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      a[i * n + j] /= static_cast<double>(tokens);
      if (i == j) a[i * n + j] += 0.01 * mean;
      a[j * n + i] = a[i * n + j];
    }
  return cache.emplace(n, std::move(a)).first->second;
}

// The reference code's U: chol(A) → cholesky_inverse → chol, U = Lᵀ, all in
// plain double. u [n, n] upper.
std::vector<double> three_step_factor(std::vector<double> a, int64_t n) {
  EXPECT_EQ(cholesky(a.data(), n), -1);
  cholesky_inverse(a.data(), n);
  EXPECT_EQ(cholesky(a.data(), n), -1);
  std::vector<double> u(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) u[i * n + j] = a[j * n + i];
  return u;
}

class BlockedTest : public ::testing::TestWithParam<int64_t> {};

// Higham, Accuracy and Stability of Numerical Algorithms, Thm 10.3: the
// computed L satisfies |A - L·Lᵀ| <= γ_{n+1}·|L|·|Lᵀ| for any order of the
// inner products, and (|L|·|Lᵀ|)_ij <= sqrt(A_ii·A_jj) by Cauchy–Schwarz
// (Σ_k L_ik² = A_ii). With the products in float, γ is float's: (n+1)·2⁻²⁴,
// plus two roundings for the conversions to float: tolerance (n+3)·2⁻²⁴.
TEST_P(BlockedTest, CholeskyReproducesMatrixToFloatBound) {
  const int64_t n = GetParam();
  const std::vector<double>& a = hessian_like(n);
  std::vector<double> l = a;
  std::vector<float> work(linalg_work_size(n));
  ASSERT_EQ(cholesky_blocked(l.data(), work.data(), n), -1);
  const double gamma = static_cast<double>(n + 3) * kFloatU;
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (j > i) {
        ASSERT_EQ(l[i * n + j], 0.0) << "upper entry " << i << "," << j;
        ASSERT_EQ(work[i * n + j], 0.0f) << "upper entry of the float copy " << i << "," << j;
        continue;
      }
      ASSERT_EQ(work[i * n + j], static_cast<float>(l[i * n + j])) << "float copy " << i << "," << j;
      double s = 0.0;
      for (int64_t k = 0; k <= j; ++k) s += l[i * n + k] * l[j * n + k];
      worst = std::max(worst, std::fabs(s - a[i * n + j]) / std::sqrt(a[i * n + i] * a[j * n + j]));
    }
  EXPECT_LE(worst, gamma) << "max |A - L·Lᵀ|_ij / sqrt(A_ii·A_jj)";
  // One panel: no float product at all, the same arithmetic as cholesky.
  if (n <= kLinalgBlock) {
    std::vector<double> plain = a;
    ASSERT_EQ(cholesky(plain.data(), n), -1);
    EXPECT_EQ(plain, l);
  }
}

// Triangular inversion (Higham §14.2, Du Croz & Higham 1992): the computed M
// satisfies |M·L - I| <= c·n·u·|M|·|L| for the methods used here; with the
// off-diagonal products in float, u = 2⁻²⁴ and c = 1 plus conversions.
TEST_P(BlockedTest, LowerTriangularInverseIsInverse) {
  const int64_t n = GetParam();
  std::vector<double> l = hessian_like(n);
  std::vector<float> work(linalg_work_size(n));
  ASSERT_EQ(cholesky_blocked(l.data(), work.data(), n), -1);
  std::vector<double> m = l;
  for (int64_t i = 0; i < n; ++i)  // garbage in the ignored strict upper
    for (int64_t j = i + 1; j < n; ++j) m[i * n + j] = 1e30;
  lower_triangular_inverse(m.data(), work.data(), n);
  const double gamma = static_cast<double>(n + 3) * kFloatU;
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (j > i) {
        ASSERT_EQ(m[i * n + j], 0.0) << "upper entry " << i << "," << j;
        ASSERT_EQ(work[i * n + j], 0.0f) << "upper entry of the float copy " << i << "," << j;
        continue;
      }
      ASSERT_EQ(work[i * n + j], static_cast<float>(m[i * n + j])) << "float copy " << i << "," << j;
      double s = 0.0, abs_s = 0.0;
      for (int64_t k = j; k <= i; ++k) {
        s += m[i * n + k] * l[k * n + j];
        abs_s += std::fabs(m[i * n + k] * l[k * n + j]);
      }
      worst = std::max(worst, std::fabs(s - (i == j ? 1.0 : 0.0)) / abs_s);
    }
  EXPECT_LE(worst, gamma) << "max |M·L - I|_ij / (|M|·|L|)_ij";
}

// U = J·L'⁻¹·J with J·A·J = L'·L'ᵀ is the upper Cholesky factor of A⁻¹
// (A⁻¹ = Uᵀ·U, and that factor is unique), so it must equal the three-step
// result, and Uᵀ·U must reproduce A⁻¹ (from cholesky_inverse, in double).
// Tolerance: a triangular inverse's relative forward error is ~n·u·κ(L)
// (Higham §14.2), κ(L) = κ(A)^½, with u = 2⁻²⁴ once the products run in float
// (n > kLinalgBlock) and 2⁻⁵³ otherwise; the double reference itself carries
// ~n·2⁻⁵³·κ(A) (it forms A⁻¹ explicitly). κ(A) <= ‖A‖_∞ / λ_min and
// λ_min >= the dampening, since XᵀX/N is positive semidefinite. Uᵀ·U doubles
// the relative error of U to first order.
TEST_P(BlockedTest, ReversedFactorInverseMatchesThreeStep) {
  const int64_t n = GetParam();
  const std::vector<double>& a = hessian_like(n);
  std::vector<double> r(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) r[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)];
  std::vector<float> work(linalg_work_size(n));
  ASSERT_EQ(cholesky_blocked(r.data(), work.data(), n), -1);
  lower_triangular_inverse(r.data(), work.data(), n);
  std::vector<double> u(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) u[i * n + j] = r[(n - 1 - i) * n + (n - 1 - j)];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j) ASSERT_EQ(u[i * n + j], 0.0) << "lower entry " << i << "," << j;

  const auto rel_diff = [n](const std::vector<double>& x, const std::vector<double>& ref) {
    double diff = 0.0, norm = 0.0;
    for (int64_t k = 0; k < n * n; ++k) {
      diff += (x[k] - ref[k]) * (x[k] - ref[k]);
      norm += ref[k] * ref[k];
    }
    return std::sqrt(diff / norm);
  };
  double norm_inf = 0.0, mean_diag = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double row = 0.0;
    for (int64_t j = 0; j < n; ++j) row += std::fabs(a[i * n + j]);
    norm_inf = std::max(norm_inf, row);
    mean_diag += a[i * n + i] / static_cast<double>(n);
  }
  const double damp = 0.01 * mean_diag / 1.01;  // hessian_like's dampening
  const double kappa = norm_inf / damp;
  const double u_bulk = n > kLinalgBlock ? kFloatU : std::ldexp(1.0, -53);
  const double tol = static_cast<double>(n + 3) * (u_bulk * std::sqrt(kappa) + std::ldexp(1.0, -53) * kappa);
  EXPECT_LE(rel_diff(u, three_step_factor(a, n)), tol) << "‖U - U_3step‖_F / ‖U_3step‖_F, κ(A) <= " << kappa;

  std::vector<double> inv = a, utu(n * n, 0.0);
  ASSERT_EQ(cholesky(inv.data(), n), -1);
  cholesky_inverse(inv.data(), n);
  for (int64_t k = 0; k < n; ++k)  // Uᵀ·U = Σ_k (row k of U)ᵀ·(row k of U)
    for (int64_t i = k; i < n; ++i) {
      const double uki = u[k * n + i];
      for (int64_t j = k; j < n; ++j) utu[i * n + j] += uki * u[k * n + j];
    }
  EXPECT_LE(rel_diff(utu, inv), 2.0 * tol) << "‖Uᵀ·U - A⁻¹‖_F / ‖A⁻¹‖_F, κ(A) <= " << kappa;
}

INSTANTIATE_TEST_SUITE_P(Sizes, BlockedTest, ::testing::Values(1, 7, 129, 300, 1000));

TEST(Linalg, BlockedNotPositiveDefiniteReportsPivot) {
  // Pivot in the first panel, in a later panel, and a NaN.
  for (const int64_t bad : {int64_t{3}, kLinalgBlock + 5}) {
    const int64_t n = kLinalgBlock + 40;
    std::vector<double> a = hessian_like(n);
    // Row/column bad becomes a copy of row/column bad-1: singular at pivot bad.
    for (int64_t k = 0; k < n; ++k) {
      a[bad * n + k] = a[(bad - 1) * n + k];
      a[k * n + bad] = a[k * n + bad - 1];
    }
    a[bad * n + bad] = a[(bad - 1) * n + bad - 1] * (1.0 - 1e-3);  // now indefinite
    std::vector<float> work(linalg_work_size(n));
    EXPECT_EQ(cholesky_blocked(a.data(), work.data(), n), bad);
  }
  double indefinite[] = {1, 2, 2, 1};
  float work[2 * 2 + 2 * kLinalgBlock];
  EXPECT_EQ(cholesky_blocked(indefinite, work, 2), 1);
  double nan_entry[] = {1, 0, 0, NAN};
  EXPECT_EQ(cholesky_blocked(nan_entry, work, 2), 1);
}

}  // namespace
}  // namespace lmpack
