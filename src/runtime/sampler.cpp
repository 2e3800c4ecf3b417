#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/hash.h"

namespace lmpack {

uint64_t Rng::next_u64() { return splitmix64_next(state_); }

float Rng::next_float() { return static_cast<float>(next_u64() >> 40) / 16777216.0f; }

int32_t sample_argmax(const float* logits, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return static_cast<int32_t>(best);
}

Sampler::Sampler(SamplerOptions options) : options_(options), rng_(options.seed) {
  if (std::isnan(options_.temperature) || std::isinf(options_.temperature))
    throw Error("sampling.temperature", cat("must be a finite number, got ", options_.temperature));
  if (!(options_.top_p > 0.0f))
    throw Error("sampling.top_p", cat("must be in (0, 1], got ", options_.top_p));
}

int32_t Sampler::sample(const float* logits, int64_t n) {
  if (options_.temperature <= 0.0f) return sample_argmax(logits, n);

  // probs = softmax(logits / temperature), in double for the sums.
  probs_.resize(static_cast<size_t>(n));
  float max = logits[0];
  for (int64_t i = 1; i < n; ++i) max = std::max(max, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    probs_[i] = std::exp((logits[i] - max) / options_.temperature);
    sum += probs_[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) probs_[i] *= inv;

  const float r = rng_.next_float();
  if (options_.top_p >= 1.0f) {
    float cdf = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      cdf += probs_[i];
      if (r < cdf) return static_cast<int32_t>(i);
    }
    return static_cast<int32_t>(n - 1);  // rounding left r above the last cdf
  }

  // Nucleus: the smallest set of most likely tokens whose mass exceeds top_p.
  // Tokens below (1 - top_p) / (n - 1) cannot be in it (llama2.c's cut), which
  // keeps the sort short.
  const float cutoff = n > 1 ? (1.0f - options_.top_p) / static_cast<float>(n - 1) : 0.0f;
  candidates_.clear();
  for (int64_t i = 0; i < n; ++i)
    if (probs_[i] >= cutoff) candidates_.emplace_back(probs_[i], static_cast<int32_t>(i));
  std::sort(candidates_.begin(), candidates_.end(),
            [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  size_t last = candidates_.size() - 1;
  float mass = 0.0f;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    mass += candidates_[i].first;
    if (mass > options_.top_p) {
      last = i;
      break;
    }
  }
  const float target = r * mass;
  float cdf = 0.0f;
  for (size_t i = 0; i <= last; ++i) {
    cdf += candidates_[i].first;
    if (target < cdf) return candidates_[i].second;
  }
  return candidates_[last].second;
}

}  // namespace lmpack
