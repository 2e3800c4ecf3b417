// Element-wise and row kernels of the Llama forward pass: RMSNorm, RoPE on
// adjacent pairs, softmax, SwiGLU's silu(gate) * up, and dot products.
//
// Raw pointers, outputs first, a shape comment per argument; no allocation
// and no validation inside. Each fast kernel is written so gcc vectorises it
// under -march=x86-64-v3 (OpenMP simd reductions); the *_reference versions
// are plain scalar loops, kept as the oracle for tests and for the reference
// forward pass.
#pragma once

#include <cstdint>

namespace lmpack {

// sum a[i] * b[i]; a, b: [n].
float dot(const float* a, const float* b, int64_t n);
float dot_reference(const float* a, const float* b, int64_t n);

// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]; out, x, w: [n] (out may be x).
void rmsnorm(float* out, const float* x, const float* w, int64_t n, float eps);
void rmsnorm_reference(float* out, const float* x, const float* w, int64_t n, float eps);
// x [n_heads, head_dim] in place: every head RMS-normalized on its own and
// scaled by the one weight w [head_dim] (Qwen3's q/k norms).
void rmsnorm_heads(float* x, const float* w, int64_t n_heads, int64_t head_dim, float eps);
void rmsnorm_heads_reference(float* x, const float* w, int64_t n_heads, int64_t head_dim, float eps);

// In place, numerically stable (max subtracted); x: [n], n >= 1.
void softmax(float* x, int64_t n);
void softmax_reference(float* x, int64_t n);

// gate[i] = silu(gate[i]) * up[i]; gate, up: [n].
void silu_mul(float* gate, const float* up, int64_t n);
// gate[i] = gelu(gate[i]) * up[i] with the tanh approximation
// 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))) (Gemma's gelu_pytorch_tanh).
void gelu_tanh_mul(float* gate, const float* up, int64_t n);
// The FFN's activation of a model, by FfnActivation (model/config.h).
void ffn_activation_mul(float* gate, const float* up, int64_t n, bool gelu_tanh);

// x[i] = cap·tanh(x[i]/cap) in place (soft-capping); x: [n], cap > 0.
void softcap_inplace(float* x, int64_t n, float cap);

// y[i] += x[i]; y, x: [n].
void add_inplace(float* y, const float* x, int64_t n);

// RoPE frequencies. inv_freq: [head_dim/2] out; inv_freq[j] = theta^(-2j/head_dim),
// the rotation speed of the pair (2j, 2j+1) inside every head.
void rope_inv_freq(float* inv_freq, int64_t head_dim, float theta);

// Llama 3.x frequency scaling (HF "rope_type": "llama3") applied in place:
// wavelengths shorter than original_max_position / high_freq_factor are
// kept, longer than original_max_position / low_freq_factor are divided by
// factor, and those between are blended smoothly. inv_freq: [half].
void rope_scale_llama3(float* inv_freq, int64_t half, float factor, float low_freq_factor,
                       float high_freq_factor, int64_t original_max_position);

// cos/sin tables for positions pos0 .. pos0+n_pos-1: cos_out, sin_out:
// [n_pos, half] out; inv_freq: [half]. Angles are computed in double.
void rope_tables(float* cos_out, float* sin_out, const float* inv_freq, int64_t half, int64_t pos0,
                 int64_t n_pos);

// Rotates adjacent pairs of every head of one position, in place:
// (x0, x1) <- (x0 c - x1 s, x0 s + x1 c) with c, s = cos/sin[j] for pair j.
// x: [n_heads, head_dim]; cos, sin: [rotary_dims/2] (this position's row).
// Only the first rotary_dims of each head turn (partial rotary); 0: all.
void rope(float* x, const float* cos, const float* sin, int64_t n_heads, int64_t head_dim, int64_t rotary_dims = 0);
void rope_reference(float* x, const float* cos, const float* sin, int64_t n_heads, int64_t head_dim,
                    int64_t rotary_dims = 0);

}  // namespace lmpack
