// Small dense linear algebra for the calibration methods (GPTQ): Cholesky
// factorisation, the inverse of a lower-triangular factor, and the inverse of
// a symmetric positive definite matrix from its factor. Matrices are row-major
// [n, n] raw pointers; nothing allocates, everything works in place (the
// blocked routines take the caller's float scratch). Sizes are a layer's input
// width (up to ~1.1·10^4).
//
// Two tiers:
//   - cholesky, cholesky_inverse: plain double, O(n³) scalar loops. Exact to
//     double rounding, slow (minutes at n = 4096); the oracle in tests and the
//     right choice for small n.
//   - cholesky_blocked, lower_triangular_inverse: blocked in panels of
//     kLinalgBlock rows. Diagonal blocks are factored/inverted and panels are
//     solved in double; the O(n³) bulk (the block products) runs through
//     oneDNN sgemm in float, from float copies of the factor, with the
//     Cholesky updates accumulated into the double matrix. Precision is
//     therefore that of a float computation: |A - L·Lᵀ|_ij <= ~n·2⁻²⁴·
//     sqrt(A_ii·A_jj) (Higham, Accuracy and Stability, Thm 10.3 with float's
//     unit roundoff), and L⁻¹ is accurate to ~n·2⁻²⁴·cond(L). Seconds at
//     n = 11008 on two threads.
#pragma once

#include <cstdint>

namespace lmpack {

// In-place lower Cholesky factor: on return the lower triangle (with the
// diagonal) of a holds L with A = L·Lᵀ and the strict upper triangle is zero.
// Only the lower triangle of the input is read. Returns -1 on success, or the
// index of the first pivot that is not > 0 (A not positive definite); a is
// then partly overwritten.
int64_t cholesky(double* a, int64_t n);

// In place: a holds a lower Cholesky factor L (as cholesky leaves it); on
// return a holds the full symmetric A⁻¹ = L⁻ᵀ·L⁻¹.
void cholesky_inverse(double* a, int64_t n);

// Rows per panel of the blocked routines.
constexpr int64_t kLinalgBlock = 128;

// Floats of scratch the blocked routines need for an [n, n] matrix:
// n·n (a float copy of the factor) + n·kLinalgBlock (one panel product).
int64_t linalg_work_size(int64_t n);

// Same contract as cholesky (a: [n, n] in/out, lower read, L returned with
// a zero strict upper triangle; -1 or the failing pivot), blocked and
// mixed precision as described above. work: [linalg_work_size(n)] scratch;
// on success its first n·n floats hold L in float (strict upper zero).
// Right-looking in effect but left-looking in schedule: panel j is updated
// with one sgemm against all of L's columns to its left, so each entry of a
// is read and written once per panel and sgemm's inner dimension is large.
int64_t cholesky_blocked(double* a, float* work, int64_t n);

// In place: a: [n, n] holds a lower-triangular L with a nonzero diagonal (as
// cholesky or cholesky_blocked leave it; the strict upper is ignored); on
// return a holds M = L⁻¹ (lower, strict upper zero). work:
// [linalg_work_size(n)] scratch; on return its first n·n floats hold M in
// float, row-major, strict upper zero. Diagonal blocks inverted in double,
// off-diagonal blocks by sgemm in float.
void lower_triangular_inverse(double* a, float* work, int64_t n);

}  // namespace lmpack
