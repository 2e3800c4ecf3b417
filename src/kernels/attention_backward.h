// Backward of causal attention (attention.h) for one head over a whole
// sequence (pos0 = 0: query i attends to keys 0..i), for training. The
// softmax is recomputed from q and k rather than stored (n^2 per head):
// per query i, with p = softmax_t(scale q_i . k_t) and dp_t = dout_i . v_t,
//   ds_t = p_t (dp_t - sum_u p_u dp_u)
//   dq_i = scale sum_t ds_t k_t        (written)
//   dk_t += scale ds_t q_i,  dv_t += p_t dout_i   (accumulated: query heads
//                                     of a group share their KV head)
// The grouped-query mapping is the caller's, as in attention.h; callers that
// run heads in parallel give each thread whole KV groups (dk, dv are shared).
#pragma once

#include <cstdint>

namespace lmpack {

//   dq:      [n, head_dim] out, row stride q_stride
//   dk, dv:  [n, head_dim] accumulated, row stride kv_stride
//   dout:    [n, head_dim], row stride out_stride
//   q, k, v: [n, head_dim], strides q_stride, kv_stride (after RoPE)
//   scratch: [2 n] floats
void attention_causal_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                               const float* v, float* scratch, int64_t n, int64_t head_dim, int64_t out_stride,
                               int64_t q_stride, int64_t kv_stride, float scale);
void attention_causal_backward_reference(float* dq, float* dk, float* dv, const float* dout, const float* q,
                                         const float* k, const float* v, float* scratch, int64_t n,
                                         int64_t head_dim, int64_t out_stride, int64_t q_stride,
                                         int64_t kv_stride, float scale);

}  // namespace lmpack
