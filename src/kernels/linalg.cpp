// Cholesky factorisation and inverse; see linalg.h.
//
// cholesky: left-looking row-by-row (Cholesky–Banachiewicz). Row i of L needs
// rows 0..i-1 only, so the inner dot products run over contiguous memory.
// cholesky_inverse: invert L in place column by column, then form L⁻ᵀ·L⁻¹ into
// the upper triangle (which holds no data of L⁻¹) and mirror it down.
//
// cholesky_blocked: the blocked Cholesky of Golub & Van Loan, Matrix
// Computations (4th ed.) §4.2.9, in its left-looking (gaxpy) order. For panel
// j (rows j0.., columns j0..j0+nb): A[j0:, J] -= L[j0:, :j0]·L[J, :j0]ᵀ (one
// sgemm in float from the float copy of L, subtracted from the double a),
// then L_JJ = chol(A_JJ) in double and L[j1:, J] = A[j1:, J]·L_JJ⁻ᵀ by a
// double triangular solve, row by row in axpy form (vectorisable, no
// reductions) against L_JJᵀ, which is parked in the unused strict upper
// triangle of the diagonal block.
// lower_triangular_inverse: block row i of M = L⁻¹ is
// M[I, :i0] = -M_II · (L[I, :i0]·M[:i0, :i0]), M_II = L_II⁻¹ (Golub & Van
// Loan §3.1 blocked forward substitution applied to the identity; Du Croz &
// Higham 1992, "Stability of methods for matrix inversion", method 2C-like).
// M_II is inverted in double; the products run in float through sgemm, one
// per block of the triangle so that the zero upper part of M is never
// multiplied; the float copy of L is overwritten by M row block by row block
// (row block i of L is last read when row block i of M is formed).
#include "kernels/linalg.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "kernels/matmul.h"

namespace lmpack {
namespace {

// Below this many multiply-adds a step is not worth waking the thread team.
constexpr int64_t kParallelWork = int64_t{1} << 16;

// Runs fn(r) for r in [0, rows), threaded when rows·work_per_row is large.
template <typename Fn>
void rows_for(int64_t rows, int64_t work_per_row, Fn&& fn) {
  if (rows * work_per_row >= kParallelWork) {
    parallel_for(rows, fn);
  } else {
    for (int64_t r = 0; r < rows; ++r) fn(r);
  }
}

// Unblocked lower Cholesky of the [m, m] block at a (leading dimension lda),
// reading its lower triangle only; -1 or the local index of the bad pivot.
int64_t factor_block(double* a, int64_t m, int64_t lda) {
  for (int64_t i = 0; i < m; ++i) {
    double* row_i = a + i * lda;
    for (int64_t j = 0; j < i; ++j) {
      const double* row_j = a + j * lda;
      double s = row_i[j];
      for (int64_t k = 0; k < j; ++k) s -= row_i[k] * row_j[k];
      row_i[j] = s / row_j[j];
    }
    double d = row_i[i];
    for (int64_t k = 0; k < i; ++k) d -= row_i[k] * row_i[k];
    if (!(d > 0.0)) return i;  // also catches NaN
    row_i[i] = std::sqrt(d);
  }
  return -1;
}

// b [rows, m] (leading dimension lda) <- b·L⁻ᵀ, L the lower [m, m] block at l
// (leading dimension lda). Writes Lᵀ into the strict upper of that block
// (the caller zeroes it afterwards). Row x solves x·Lᵀ = b: x_j = b_j / L_jj,
// then b_k -= x_j·L_kj for k > j, a contiguous axpy over row j of Lᵀ.
void panel_solve(double* b, int64_t rows, double* l, int64_t m, int64_t lda) {
  for (int64_t j = 0; j < m; ++j)
    for (int64_t k = j + 1; k < m; ++k) l[j * lda + k] = l[k * lda + j];
  rows_for(rows, m * m / 2, [&](int64_t r) {
    double* x = b + r * lda;
    for (int64_t j = 0; j < m; ++j) {
      const double* lt = l + j * lda;
      const double xj = x[j] / lt[j];
      x[j] = xj;
      for (int64_t k = j + 1; k < m; ++k) x[k] -= xj * lt[k];
    }
  });
}

// In place inverse of the lower [m, m] block at a (leading dimension lda),
// column by column as in cholesky_inverse step 1; the strict upper is not
// touched.
void invert_lower_block(double* a, int64_t m, int64_t lda) {
  for (int64_t j = 0; j < m; ++j) {
    a[j * lda + j] = 1.0 / a[j * lda + j];
    for (int64_t i = j + 1; i < m; ++i) {
      const double* row_i = a + i * lda;
      double s = 0.0;
      for (int64_t k = j; k < i; ++k) s += row_i[k] * a[k * lda + j];
      a[i * lda + j] = -s / row_i[i];
    }
  }
}

// Zeroes the strict upper triangle of the [n, n] matrix a.
template <typename T>
void zero_upper(T* a, int64_t n) {
  rows_for(n, n / 2, [&](int64_t r) { std::fill(a + r * n + r + 1, a + (r + 1) * n, T{0}); });
}

}  // namespace

int64_t cholesky(double* a, int64_t n) {
  const int64_t bad = factor_block(a, n, n);
  if (bad < 0) zero_upper(a, n);
  return bad;
}

void cholesky_inverse(double* a, int64_t n) {
  // 1. M = L⁻¹ in place (lower). Column j: M[j][j] = 1/L[j][j];
  //    M[i][j] = -(Σ_{k=j}^{i-1} L[i][k]·M[k][j]) / L[i][i]. Processing columns
  //    in ascending order and rows in ascending order only ever reads L entries
  //    not yet overwritten (columns > j, and L[i][j] itself before its write),
  //    so the loop is serial: O(n³/6), small next to the factorisation's use.
  invert_lower_block(a, n, n);
  // 2. C = Mᵀ·M, C[i][j] = Σ_{k>=max(i,j)} M[k][i]·M[k][j]. Step i writes C[b][i]
  //    (b < i) into the upper triangle, then C[i][i] over M[i][i], which no
  //    later step reads (later steps sum over k > i).
  for (int64_t i = 0; i < n; ++i) {
    const auto entry = [&](int64_t b) {
      double s = 0.0;
      for (int64_t k = i; k < n; ++k) s += a[k * n + i] * a[k * n + b];
      a[b * n + i] = s;
    };
    if (i * (n - i) >= kParallelWork) {
      parallel_for(i, entry);
    } else {
      for (int64_t b = 0; b < i; ++b) entry(b);
    }
    double d = 0.0;
    for (int64_t k = i; k < n; ++k) d += a[k * n + i] * a[k * n + i];
    a[i * n + i] = d;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j) a[i * n + j] = a[j * n + i];
}

int64_t linalg_work_size(int64_t n) { return n * n + n * kLinalgBlock; }

int64_t cholesky_blocked(double* a, float* work, int64_t n) {
  float* lf = work;              // [n, n] float copy of L, filled panel by panel
  float* prod = work + n * n;    // [n - j0, nb] panel product
  for (int64_t j0 = 0; j0 < n; j0 += kLinalgBlock) {
    const int64_t nb = std::min(kLinalgBlock, n - j0), rows = n - j0;
    double* panel = a + j0 * n + j0;  // [rows, nb], leading dimension n
    if (j0 > 0) {
      // prod = L[j0:, :j0] · L[j0:j0+nb, :j0]ᵀ in float; a[j0:, J] -= prod.
      sgemm(false, true, rows, nb, j0, 1.0f, lf + j0 * n, n, lf + j0 * n, n, 0.0f, prod, nb);
      rows_for(rows, nb, [&](int64_t r) {
        double* dst = panel + r * n;
        const float* src = prod + r * nb;
        for (int64_t c = 0; c < nb; ++c) dst[c] -= static_cast<double>(src[c]);
      });
    }
    const int64_t pivot = factor_block(panel, nb, n);
    if (pivot >= 0) return j0 + pivot;
    if (rows > nb) panel_solve(panel + nb * n, rows - nb, panel, nb, n);
    for (int64_t r = 0; r < nb; ++r)  // Lᵀ parked by panel_solve
      for (int64_t c = r + 1; c < nb; ++c) panel[r * n + c] = 0.0;
    rows_for(rows, nb, [&](int64_t r) {
      const double* src = panel + r * n;
      float* dst = lf + (j0 + r) * n + j0;
      const int64_t width = std::min(nb, r + 1);  // diagonal block: lower only
      for (int64_t c = 0; c < width; ++c) dst[c] = static_cast<float>(src[c]);
      for (int64_t c = width; c < nb; ++c) dst[c] = 0.0f;
    });
  }
  zero_upper(a, n);
  zero_upper(lf, n);
  return -1;
}

void lower_triangular_inverse(double* a, float* work, int64_t n) {
  float* mf = work;            // [n, n] L in float, becoming M row block by row block
  float* prod = work + n * n;  // [nb, i0] = L[I, :i0] · M[:i0, :i0]
  rows_for(n, n, [&](int64_t r) {
    for (int64_t c = 0; c <= r; ++c) mf[r * n + c] = static_cast<float>(a[r * n + c]);
    std::fill(mf + r * n + r + 1, mf + (r + 1) * n, 0.0f);
  });
  for (int64_t i0 = 0; i0 < n; i0 += kLinalgBlock) {
    const int64_t nb = std::min(kLinalgBlock, n - i0);
    // prod[:, J] = L[I, j0:i0] · M[j0:i0, J]: M is lower, so rows above j0 of
    // block column J are zero and the inner dimension starts at j0.
    for (int64_t j0 = 0; j0 < i0; j0 += kLinalgBlock)
      sgemm(false, false, nb, kLinalgBlock, i0 - j0, 1.0f, mf + i0 * n + j0, n, mf + j0 * n + j0, n, 0.0f,
            prod + j0, i0);
    double* diag = a + i0 * n + i0;
    invert_lower_block(diag, nb, n);
    for (int64_t r = 0; r < nb; ++r)
      for (int64_t c = 0; c <= r; ++c) mf[(i0 + r) * n + i0 + c] = static_cast<float>(diag[r * n + c]);
    if (i0 == 0) continue;
    // M[I, :i0] = -M_II · prod, over the float copy of L[I, :i0].
    sgemm(false, false, nb, i0, nb, -1.0f, mf + i0 * n + i0, n, prod, i0, 0.0f, mf + i0 * n, n);
    rows_for(nb, i0, [&](int64_t r) {
      const float* src = mf + (i0 + r) * n;
      double* dst = a + (i0 + r) * n;
      for (int64_t c = 0; c < i0; ++c) dst[c] = static_cast<double>(src[c]);
    });
  }
  zero_upper(a, n);
}

}  // namespace lmpack
