#include "kernels/attention.h"

#include <algorithm>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/ops.h"

namespace lmpack {
namespace {

// The first key position a query at `pos` sees.
int64_t first_key(int64_t pos, int64_t window) { return window > 0 && pos >= window ? pos - window + 1 : 0; }

// Queries per matrix product in attention_causal's blocked path, and the
// fewest queries and keys for which it is taken: below them the per-query
// loop costs little, and the first sgemm call would set up oneDNN's state
// (6.6 MB of RSS, measured in QuantForward.Q4KGgufRunsInPlace) in runs that
// otherwise never multiply matrices (short prompts, generation).
constexpr int64_t kBlockQueries = 64;
constexpr int64_t kMinBlockQueries = 8;
constexpr int64_t kMinBlockKeys = 128;

// Queries [0, n_q) as two matrix products: scores S = scale Q K^T over the
// keys any of them sees, each row masked to its own keys and softmaxed, then
// out = P V. The keys a row does not see get probability 0, so out is the
// per-query loop's up to float summation order.
void attention_blocked(float* out, const float* q, const float* k, const float* v, int64_t n_q, int64_t pos0,
                       int64_t head_dim, int64_t out_stride, int64_t q_stride, int64_t kv_stride, float scale,
                       int64_t window, float softcap) {
  const int64_t f0 = first_key(pos0, window), n_k = pos0 + n_q - f0;
  thread_local std::vector<float> scores;
  if (scores.size() < static_cast<size_t>(n_q * n_k)) scores.resize(static_cast<size_t>(n_q * n_k));
  float* S = scores.data();
  sgemm(false, true, n_q, n_k, head_dim, scale, q, q_stride, k + f0 * kv_stride, kv_stride, 0.0f, S, n_k);
  for (int64_t i = 0; i < n_q; ++i) {
    float* row = S + i * n_k;
    const int64_t lo = first_key(pos0 + i, window) - f0, hi = pos0 + i + 1 - f0;  // the keys it sees: [lo, hi)
    for (int64_t t = 0; t < lo; ++t) row[t] = 0.0f;
    if (softcap > 0.0f) softcap_inplace(row + lo, hi - lo, softcap);
    softmax(row + lo, hi - lo);
    for (int64_t t = hi; t < n_k; ++t) row[t] = 0.0f;
  }
  sgemm(false, false, n_q, head_dim, n_k, 1.0f, S, n_k, v + f0 * kv_stride, kv_stride, 0.0f, out, out_stride);
}

}  // namespace

void attention_causal(float* out, const float* q, const float* k, const float* v, float* scratch,
                      int64_t n_q, int64_t pos0, int64_t head_dim, int64_t out_stride, int64_t q_stride,
                      int64_t kv_stride, float scale, int64_t window, float softcap) {
  if (n_q >= kMinBlockQueries && pos0 + n_q >= kMinBlockKeys) {
    for (int64_t i0 = 0; i0 < n_q; i0 += kBlockQueries)
      attention_blocked(out + i0 * out_stride, q + i0 * q_stride, k, v, std::min(kBlockQueries, n_q - i0), pos0 + i0,
                        head_dim, out_stride, q_stride, kv_stride, scale, window, softcap);
    return;
  }
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
