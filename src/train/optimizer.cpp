#include "train/optimizer.h"

#include <cmath>
#include <numbers>

#include "core/error.h"
#include "core/parallel.h"

namespace lmpack {
namespace {

constexpr int64_t kChunk = 1 << 14;  // elements per parallel task

}  // namespace

AdamW::AdamW(const ParameterLayout& layout, AdamWOptions options)
    : options_(options), decayed_(layout.size(), 0), m_(layout.size(), 0.0f), v_(layout.size(), 0.0f) {
  for (const ParameterTensor& t : layout.tensors())
    if (t.shape.size() == 2) std::fill(decayed_.begin() + t.offset, decayed_.begin() + t.offset + t.size, 1);
}

void AdamW::step(float* values, const float* grads, float lr) {
  ++steps_;
  const float b1 = options_.beta1, b2 = options_.beta2, eps = options_.eps, wd = options_.weight_decay;
  const float c1 = 1.0f / (1.0f - static_cast<float>(std::pow(static_cast<double>(b1), static_cast<double>(steps_))));
  const float c2 = 1.0f / (1.0f - static_cast<float>(std::pow(static_cast<double>(b2), static_cast<double>(steps_))));
  const int64_t n = static_cast<int64_t>(m_.size());
  parallel_for((n + kChunk - 1) / kChunk, [&](int64_t chunk) {
    const int64_t end = std::min(n, (chunk + 1) * kChunk);
    for (int64_t i = chunk * kChunk; i < end; ++i) {
      const float g = grads[i];
      m_[i] = b1 * m_[i] + (1.0f - b1) * g;
      v_[i] = b2 * v_[i] + (1.0f - b2) * g * g;
      const float update = (m_[i] * c1) / (std::sqrt(v_[i] * c2) + eps);
      values[i] -= lr * (update + (decayed_[i] ? wd * values[i] : 0.0f));
    }
  });
}

void AdamW::restore(int64_t steps, std::vector<float> first, std::vector<float> second) {
  if (first.size() != m_.size() || second.size() != v_.size() || steps < 0)
    throw Error("optimizer state", cat("moments of ", first.size(), " and ", second.size(), " values at step ", steps,
                                       " do not fit a model of ", m_.size(), " parameters"));
  steps_ = steps;
  m_ = std::move(first);
  v_ = std::move(second);
}

double gradient_norm(const float* grads, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(grads[i]) * grads[i];
  return std::sqrt(sum);
}

double clip_gradient_norm(float* grads, size_t n, double max_norm) {
  const double norm = gradient_norm(grads, n);
  if (max_norm > 0.0 && norm > max_norm) {
    const float scale = static_cast<float>(max_norm / norm);
    for (size_t i = 0; i < n; ++i) grads[i] *= scale;
  }
  return norm;
}

float learning_rate_at(const LearningRateSchedule& s, int64_t step) {
  if (step < s.warmup_steps) return s.peak * static_cast<float>(step + 1) / static_cast<float>(s.warmup_steps);
  const int64_t decay_steps = s.total_steps - s.warmup_steps;
  if (decay_steps <= 0 || step >= s.total_steps) return s.floor;
  const double progress = static_cast<double>(step - s.warmup_steps) / static_cast<double>(decay_steps);
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return s.floor + static_cast<float>(cosine) * (s.peak - s.floor);
}

}  // namespace lmpack
