#include "kernels/ops.h"

#include <cmath>

namespace lmpack {

float dot(const float* a, const float* b, int64_t n) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

float dot_reference(const float* a, const float* b, int64_t n) {
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

void rmsnorm(float* out, const float* x, const float* w, int64_t n, float eps) {
  float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

void rmsnorm_reference(float* out, const float* x, const float* w, int64_t n, float eps) {
  float ss = 0.0f;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

void rmsnorm_heads(float* x, const float* w, int64_t n_heads, int64_t head_dim, float eps) {
  for (int64_t h = 0; h < n_heads; ++h) rmsnorm(x + h * head_dim, x + h * head_dim, w, head_dim, eps);
}

void rmsnorm_heads_reference(float* x, const float* w, int64_t n_heads, int64_t head_dim, float eps) {
  for (int64_t h = 0; h < n_heads; ++h) rmsnorm_reference(x + h * head_dim, x + h * head_dim, w, head_dim, eps);
}

void softmax(float* x, int64_t n) {
  float max = x[0];
#pragma omp simd reduction(max : max)
  for (int64_t i = 1; i < n; ++i) max = x[i] > max ? x[i] : max;
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void softmax_reference(float* x, int64_t n) {
  float max = x[0];
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > max) max = x[i];
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  for (int64_t i = 0; i < n; ++i) x[i] /= sum;
}

void silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void gelu_tanh_mul(float* gate, const float* up, int64_t n) {
  const float k = 0.7978845608028654f;  // sqrt(2/π)
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    gate[i] = 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x))) * up[i];
  }
}

void ffn_activation_mul(float* gate, const float* up, int64_t n, bool gelu_tanh) {
  if (gelu_tanh) gelu_tanh_mul(gate, up, n);
  else silu_mul(gate, up, n);
}

void softcap_inplace(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void add_inplace(float* y, const float* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void rope_inv_freq(float* inv_freq, int64_t head_dim, float theta) {
  for (int64_t j = 0; j < head_dim / 2; ++j)
    inv_freq[j] = static_cast<float>(
        std::pow(static_cast<double>(theta), -static_cast<double>(2 * j) / static_cast<double>(head_dim)));
}

void rope_scale_llama3(float* inv_freq, int64_t half, float factor, float low_freq_factor,
                       float high_freq_factor, int64_t original_max_position) {
  const double old_ctx = static_cast<double>(original_max_position);
  const double low_wavelen = old_ctx / low_freq_factor;
  const double high_wavelen = old_ctx / high_freq_factor;
  constexpr double kPi = 3.14159265358979323846;
  for (int64_t j = 0; j < half; ++j) {
    const double freq = inv_freq[j];
    const double wavelen = 2.0 * kPi / freq;
    double scaled;
    if (wavelen < high_wavelen) {
      scaled = freq;
    } else if (wavelen > low_wavelen) {
      scaled = freq / factor;
    } else {
      const double smooth = (old_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
      scaled = (1.0 - smooth) * freq / factor + smooth * freq;
    }
    inv_freq[j] = static_cast<float>(scaled);
  }
}

void rope_tables(float* cos_out, float* sin_out, const float* inv_freq, int64_t half, int64_t pos0,
                 int64_t n_pos) {
  for (int64_t p = 0; p < n_pos; ++p) {
    const double pos = static_cast<double>(pos0 + p);
    for (int64_t j = 0; j < half; ++j) {
      const double angle = pos * static_cast<double>(inv_freq[j]);
      cos_out[p * half + j] = static_cast<float>(std::cos(angle));
      sin_out[p * half + j] = static_cast<float>(std::sin(angle));
    }
  }
}

void rope(float* x, const float* cos, const float* sin, int64_t n_heads, int64_t head_dim, int64_t rotary_dims) {
  const int64_t half = (rotary_dims > 0 ? rotary_dims : head_dim) / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
#pragma omp simd
    for (int64_t j = 0; j < half; ++j) {
      const float x0 = v[2 * j], x1 = v[2 * j + 1];
      v[2 * j] = x0 * cos[j] - x1 * sin[j];
      v[2 * j + 1] = x0 * sin[j] + x1 * cos[j];
    }
  }
}

void rope_reference(float* x, const float* cos, const float* sin, int64_t n_heads, int64_t head_dim,
                    int64_t rotary_dims) {
  const int64_t turned = rotary_dims > 0 ? rotary_dims : head_dim;
  for (int64_t h = 0; h < n_heads; ++h) {
    for (int64_t i = 0; i < turned; i += 2) {
      const float c = cos[i / 2], s = sin[i / 2];
      const float x0 = x[h * head_dim + i], x1 = x[h * head_dim + i + 1];
      x[h * head_dim + i] = x0 * c - x1 * s;
      x[h * head_dim + i + 1] = x0 * s + x1 * c;
    }
  }
}

}  // namespace lmpack
