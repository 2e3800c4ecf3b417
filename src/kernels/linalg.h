// Small dense linear algebra in double for the calibration methods (GPTQ):
// Cholesky factorisation and the inverse of a symmetric positive definite
// matrix from its factor. Matrices are row-major [n, n] raw pointers; nothing
// allocates, everything works in place. Sizes are a layer's input width
// (up to ~10^4), so the O(n^3) loops are threaded over rows.
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

}  // namespace lmpack
