#include "kernels/ops_backward.h"

#include <cmath>

namespace lmpack {

void rmsnorm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, int64_t n, float eps) {
  float ss = 0.0f, gx = 0.0f;
#pragma omp simd reduction(+ : ss, gx)
  for (int64_t i = 0; i < n; ++i) {
    ss += x[i] * x[i];
    gx += dy[i] * w[i] * x[i];
  }
  const float r = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  const float c = r * r * r * gx / static_cast<float>(n);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    dw[i] += dy[i] * x[i] * r;
    dx[i] = r * dy[i] * w[i] - c * x[i];
  }
}

void silu_mul_backward(float* dgate, float* dup, const float* dy, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i], u = up[i], d = dy[i];
    const float s = 1.0f / (1.0f + std::exp(-g));
    dgate[i] = d * u * s * (1.0f + g * (1.0f - s));
    dup[i] = d * g * s;
  }
}

void rope_backward(float* dx, const float* cos, const float* sin, int64_t n_heads, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* p = dx + h * head_dim;
    for (int64_t j = 0; j < half; ++j) {
      const float d0 = p[2 * j], d1 = p[2 * j + 1], c = cos[j], s = sin[j];
      p[2 * j] = d0 * c + d1 * s;
      p[2 * j + 1] = -d0 * s + d1 * c;
    }
  }
}

}  // namespace lmpack
