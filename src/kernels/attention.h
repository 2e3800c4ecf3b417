// Causal scaled-dot-product attention of one head for a block of consecutive
// queries against a KV cache (the grouped-query mapping from query head to KV
// head is the caller's: it passes that KV head's column offset).
//
// Query i of the block sits at position pos0 + i and attends to the keys at
// positions 0 .. pos0 + i (with a sliding window w > 0, only to the last w of
// them: max(0, pos0 + i - w + 1) .. pos0 + i):
//   out_i = sum_t softmax_t(scale * q_i . k_t) v_t
// Rows are strided so the caller can point straight into [n, q_dim]
// activations and a [pos, kv_dim] cache. No allocation, no validation.
#pragma once

#include <cstdint>

namespace lmpack {

//   out:     [n_q, head_dim] out, row stride out_stride
//   q:       [n_q, head_dim], row stride q_stride
//   k, v:    [pos0 + n_q, head_dim], row stride kv_stride (position 0 first)
//   scratch: [pos0 + n_q] floats
//   window:  0 (none) or the sliding window w
//   softcap: 0 (none) or c: each score s = scale·q·k becomes c·tanh(s/c) (Gemma 2)
void attention_causal(float* out, const float* q, const float* k, const float* v, float* scratch,
                      int64_t n_q, int64_t pos0, int64_t head_dim, int64_t out_stride, int64_t q_stride,
                      int64_t kv_stride, float scale, int64_t window = 0, float softcap = 0.0f);
void attention_causal_reference(float* out, const float* q, const float* k, const float* v, float* scratch,
                                int64_t n_q, int64_t pos0, int64_t head_dim, int64_t out_stride,
                                int64_t q_stride, int64_t kv_stride, float scale, int64_t window = 0,
                                float softcap = 0.0f);

}  // namespace lmpack
