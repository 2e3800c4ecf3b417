#include "kernels/matmul.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include "core/error.h"

namespace lmpack {

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  // oneDNN threads over the whole OpenMP team even for tiny products, and a
  // parallel region costs microseconds on an idle machine but milliseconds
  // on a busy one (a small model's generation step became 100x slower).
  // Products below kSerialWork multiply-adds run on the calling thread:
  // oneDNN sizes its team from omp_get_max_threads() at each call.
  constexpr double kSerialWork = double(1 << 18);
  const bool serial = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < kSerialWork;
  const int team = omp_get_max_threads();
  if (serial && team > 1) omp_set_num_threads(1);
  dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b,
                                ldb, beta, c, ldc);
  if (serial && team > 1) omp_set_num_threads(team);
  LMPACK_CHECK(st == dnnl_success, cat("dnnl_sgemm failed with status ", static_cast<int>(st)));
}

void matmul_xwt(float* y, const float* x, const float* w, int64_t m, int64_t n, int64_t k,
                bool accumulate) {
  sgemm(false, true, m, n, k, 1.0f, x, k, w, k, accumulate ? 1.0f : 0.0f, y, n);
}

void matmul_xwt_reference(float* y, const float* x, const float* w, int64_t m, int64_t n, int64_t k,
                          bool accumulate) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int64_t p = 0; p < k; ++p) acc += x[i * k + p] * w[j * k + p];
      y[i * n + j] = accumulate ? y[i * n + j] + acc : acc;
    }
  }
}

void matmul_xwt_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, int64_t m, int64_t n,
                         int64_t k, bool accumulate_dx) {
  if (dx != nullptr) sgemm(false, false, m, k, n, 1.0f, dy, n, w, k, accumulate_dx ? 1.0f : 0.0f, dx, k);
  if (dw != nullptr) sgemm(true, false, n, k, m, 1.0f, dy, n, x, k, 1.0f, dw, k);
}

void matmul_xwt_backward_reference(float* dx, float* dw, const float* dy, const float* x, const float* w, int64_t m,
                                   int64_t n, int64_t k, bool accumulate_dx) {
  if (dx != nullptr)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) {
        float acc = 0.0f;
        for (int64_t j = 0; j < n; ++j) acc += dy[i * n + j] * w[j * k + p];
        dx[i * k + p] = accumulate_dx ? dx[i * k + p] + acc : acc;
      }
  if (dw != nullptr)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) {
        float acc = 0.0f;
        for (int64_t i = 0; i < m; ++i) acc += dy[i * n + j] * x[i * k + p];
        dw[j * k + p] += acc;
      }
}

}  // namespace lmpack
