// Cholesky factorisation and inverse; see linalg.h.
//
// cholesky: left-looking row-by-row (Cholesky–Banachiewicz). Row i of L needs
// rows 0..i-1 only, so the inner dot products run over contiguous memory.
// cholesky_inverse: invert L in place column by column, then form L⁻ᵀ·L⁻¹ into
// the upper triangle (which holds no data of L⁻¹) and mirror it down.
#include "kernels/linalg.h"

#include <cmath>

#include "core/parallel.h"

namespace lmpack {
namespace {

// Below this many multiply-adds a step is not worth waking the thread team.
constexpr int64_t kParallelWork = int64_t{1} << 16;

}  // namespace

int64_t cholesky(double* a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double* row_i = a + i * n;
    // Off-diagonal entries of row i: L[i][j] = (A[i][j] - Σ_k<j L[i][k]·L[j][k]) / L[j][j].
    for (int64_t j = 0; j < i; ++j) {
      const double* row_j = a + j * n;
      double s = row_i[j];
      for (int64_t k = 0; k < j; ++k) s -= row_i[k] * row_j[k];
      row_i[j] = s / row_j[j];
    }
    double d = row_i[i];
    for (int64_t k = 0; k < i; ++k) d -= row_i[k] * row_i[k];
    if (!(d > 0.0)) return i;  // also catches NaN
    row_i[i] = std::sqrt(d);
    for (int64_t j = i + 1; j < n; ++j) row_i[j] = 0.0;
  }
  return -1;
}

void cholesky_inverse(double* a, int64_t n) {
  // 1. M = L⁻¹ in place (lower). Column j: M[j][j] = 1/L[j][j];
  //    M[i][j] = -(Σ_{k=j}^{i-1} L[i][k]·M[k][j]) / L[i][i]. Processing columns
  //    in ascending order and rows in ascending order only ever reads L entries
  //    not yet overwritten (columns > j, and L[i][j] itself before its write),
  //    so the loop is serial: O(n³/6), small next to the factorisation's use.
  for (int64_t j = 0; j < n; ++j) {
    a[j * n + j] = 1.0 / a[j * n + j];
    for (int64_t i = j + 1; i < n; ++i) {
      const double* row_i = a + i * n;
      double s = 0.0;
      for (int64_t k = j; k < i; ++k) s += row_i[k] * a[k * n + j];
      a[i * n + j] = -s / row_i[i];
    }
  }
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

}  // namespace lmpack
