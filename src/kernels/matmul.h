// Dense fp32 matrix products, the hot spot of every forward pass.
//
// One dispatch point: oneDNN's dnnl_sgemm, which detects the CPU's ISA at run
// time (AVX-512 here) and threads over the OpenMP team. A plain triple loop is
// kept as the reference for tests and as the baseline in bench/.
#pragma once

#include <cstdint>

namespace lmpack {

// y = x · Wᵀ (+ y when accumulate): the linear layer.
//   y: [m, n] out, x: [m, k] row-major, w: [n, k] row-major (PyTorch {out, in}).
void matmul_xwt(float* y, const float* x, const float* w, int64_t m, int64_t n, int64_t k,
                bool accumulate = false);
void matmul_xwt_reference(float* y, const float* x, const float* w, int64_t m, int64_t n, int64_t k,
                          bool accumulate = false);

// Backward of y = x · Wᵀ, for training: dx = dy · W (written, or added to
// dx when accumulate_dx), dw += dyᵀ · x (always accumulated: a weight's
// gradient sums over the batch). dx or dw may be null when not wanted.
//   dx: [m, k], dw: [n, k], dy: [m, n], x: [m, k], w: [n, k], row-major.
void matmul_xwt_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, int64_t m, int64_t n,
                         int64_t k, bool accumulate_dx = false);
void matmul_xwt_backward_reference(float* dx, float* dw, const float* dy, const float* x, const float* w, int64_t m,
                                   int64_t n, int64_t k, bool accumulate_dx = false);

// General row-major C[m,n] = alpha · op(A) · op(B) + beta · C with leading dims.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace lmpack
