// Backward passes of the row kernels in ops.h, for training: given the
// gradient of the loss with respect to a kernel's output (dy) and what its
// forward saw, the gradients with respect to its inputs.
//
// Conventions (every backward kernel here and in attention_backward.h):
// gradients of activations are written (dx = ...), gradients of weights are
// accumulated (dw += ...), since a weight's gradient is a sum over the rows of
// a batch. Raw pointers, outputs first, no allocation, no validation. They
// are plain loops the compiler vectorises; each is checked against finite
// differences of its forward kernel (tests/kernels/ops_backward_test.cpp).
#pragma once

#include <cstdint>

namespace lmpack {

// y = rmsnorm(x) * w (ops.h): with r = 1/sqrt(mean(x^2) + eps) and g = dy * w,
//   dx[i] = r g[i] - r^3 x[i] (sum_j g[j] x[j]) / n,   dw[i] += dy[i] x[i] r.
// dx, dy, x, w, dw: [n]; dx may be dy.
void rmsnorm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, int64_t n, float eps);

// y = silu(gate) * up (ops.h silu_mul), with s = sigmoid(gate):
//   dgate = dy up s (1 + gate (1 - s)),   dup = dy gate s.
// dgate, dup, dy, gate, up: [n]; dgate may be gate, dup may be up, and dy
// may be either output.
void silu_mul_backward(float* dgate, float* dup, const float* dy, const float* gate, const float* up, int64_t n);

// RoPE is a rotation, so its backward is the inverse rotation of the
// gradient, in place: (d0, d1) <- (d0 c + d1 s, -d0 s + d1 c).
// dx: [n_heads, head_dim]; cos, sin: [head_dim/2] (the position's row).
void rope_backward(float* dx, const float* cos, const float* sin, int64_t n_heads, int64_t head_dim);

}  // namespace lmpack
