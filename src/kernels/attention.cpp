#include "kernels/attention.h"

#include "kernels/ops.h"

namespace lmpack {
namespace {

// The first key position a query at `pos` sees.
int64_t first_key(int64_t pos, int64_t window) { return window > 0 && pos >= window ? pos - window + 1 : 0; }

}  // namespace

void attention_causal(float* out, const float* q, const float* k, const float* v, float* scratch,
                      int64_t n_q, int64_t pos0, int64_t head_dim, int64_t out_stride, int64_t q_stride,
                      int64_t kv_stride, float scale, int64_t window, float softcap) {
  for (int64_t i = 0; i < n_q; ++i) {
    const float* qi = q + i * q_stride;
    const int64_t first = first_key(pos0 + i, window), n_keys = pos0 + i + 1 - first;
    const float* ki = k + first * kv_stride;  // [n_keys, ·] the keys it sees
    const float* vi = v + first * kv_stride;
    for (int64_t t = 0; t < n_keys; ++t) scratch[t] = dot(qi, ki + t * kv_stride, head_dim) * scale;
    if (softcap > 0.0f) softcap_inplace(scratch, n_keys, softcap);
    softmax(scratch, n_keys);
    float* oi = out + i * out_stride;
#pragma omp simd
    for (int64_t d = 0; d < head_dim; ++d) oi[d] = 0.0f;
    for (int64_t t = 0; t < n_keys; ++t) {
      const float p = scratch[t];
      const float* vt = vi + t * kv_stride;
#pragma omp simd
      for (int64_t d = 0; d < head_dim; ++d) oi[d] += p * vt[d];
    }
  }
}

void attention_causal_reference(float* out, const float* q, const float* k, const float* v, float* scratch,
                                int64_t n_q, int64_t pos0, int64_t head_dim, int64_t out_stride,
                                int64_t q_stride, int64_t kv_stride, float scale, int64_t window,
                                float softcap) {
  for (int64_t i = 0; i < n_q; ++i) {
    const int64_t first = first_key(pos0 + i, window), n_keys = pos0 + i + 1 - first;
    for (int64_t t = 0; t < n_keys; ++t)
      scratch[t] = dot_reference(q + i * q_stride, k + (first + t) * kv_stride, head_dim) * scale;
    if (softcap > 0.0f) softcap_inplace(scratch, n_keys, softcap);
    softmax_reference(scratch, n_keys);
    for (int64_t d = 0; d < head_dim; ++d) {
      float acc = 0.0f;
      for (int64_t t = 0; t < n_keys; ++t) acc += scratch[t] * v[(first + t) * kv_stride + d];
      out[i * out_stride + d] = acc;
    }
  }
}

}  // namespace lmpack
