#include "kernels/attention_backward.h"

#include "kernels/ops.h"

namespace lmpack {

void attention_causal_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                               const float* v, float* scratch, int64_t n, int64_t head_dim, int64_t out_stride,
                               int64_t q_stride, int64_t kv_stride, float scale) {
  float* p = scratch;       // [n]
  float* ds = scratch + n;  // [n]
  for (int64_t i = 0; i < n; ++i) {
    const float* qi = q + i * q_stride;
    const float* di = dout + i * out_stride;
    const int64_t n_keys = i + 1;
    for (int64_t t = 0; t < n_keys; ++t) p[t] = dot(qi, k + t * kv_stride, head_dim) * scale;
    softmax(p, n_keys);
    float sum = 0.0f;
    for (int64_t t = 0; t < n_keys; ++t) {
      ds[t] = dot(di, v + t * kv_stride, head_dim);
      sum += p[t] * ds[t];
    }
    float* dqi = dq + i * q_stride;
#pragma omp simd
    for (int64_t d = 0; d < head_dim; ++d) dqi[d] = 0.0f;
    for (int64_t t = 0; t < n_keys; ++t) {
      const float g = p[t] * (ds[t] - sum) * scale;
      const float pt = p[t];
      const float* kt = k + t * kv_stride;
      float* dkt = dk + t * kv_stride;
      float* dvt = dv + t * kv_stride;
#pragma omp simd
      for (int64_t d = 0; d < head_dim; ++d) {
        dqi[d] += g * kt[d];
        dkt[d] += g * qi[d];
        dvt[d] += pt * di[d];
      }
    }
  }
}

void attention_causal_backward_reference(float* dq, float* dk, float* dv, const float* dout, const float* q,
                                         const float* k, const float* v, float* scratch, int64_t n,
                                         int64_t head_dim, int64_t out_stride, int64_t q_stride,
                                         int64_t kv_stride, float scale) {
  float* p = scratch;
  float* dp = scratch + n;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t t = 0; t <= i; ++t) p[t] = dot_reference(q + i * q_stride, k + t * kv_stride, head_dim) * scale;
    softmax_reference(p, i + 1);
    for (int64_t t = 0; t <= i; ++t) dp[t] = dot_reference(dout + i * out_stride, v + t * kv_stride, head_dim);
    float sum = 0.0f;
    for (int64_t t = 0; t <= i; ++t) sum += p[t] * dp[t];
    for (int64_t d = 0; d < head_dim; ++d) {
      float acc = 0.0f;
      for (int64_t t = 0; t <= i; ++t) acc += p[t] * (dp[t] - sum) * k[t * kv_stride + d];
      dq[i * q_stride + d] = acc * scale;
    }
    for (int64_t t = 0; t <= i; ++t)
      for (int64_t d = 0; d < head_dim; ++d) {
        dk[t * kv_stride + d] += scale * p[t] * (dp[t] - sum) * q[i * q_stride + d];
        dv[t * kv_stride + d] += p[t] * dout[i * out_stride + d];
      }
  }
}

}  // namespace lmpack
