// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), the
// global gradient-norm clip and the warmup + cosine learning-rate schedule:
// the optimizer of every lmpack training job.
//
// Everything works on flat buffers laid out by a ParameterLayout
// (train/parameters.h); each element's update depends on that element
// alone, so a step gives the same bits whatever the thread count, and a
// resumed run (moments and step count restored) continues bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "train/parameters.h"

namespace lmpack {

struct AdamWOptions {
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  // Decoupled decay, on matrices only (norm weights and biases are not
  // decayed, as in GPT-2/Llama training recipes).
  float weight_decay = 0.1f;
};

class AdamW {
 public:
  AdamW(const ParameterLayout& layout, AdamWOptions options);
  // values -= lr * (m^ / (sqrt(v^) + eps) + weight_decay * values) with the
  // bias-corrected moments of the gradients so far (this one included).
  void step(float* values, const float* grads, float lr);
  int64_t steps() const { return steps_; }
  const AdamWOptions& options() const { return options_; }
  // The state a checkpoint keeps: first and second moments ([layout.size()]).
  const std::vector<float>& first_moment() const { return m_; }
  const std::vector<float>& second_moment() const { return v_; }
  // Throws Error("optimizer state", ...) when the sizes do not fit the layout.
  void restore(int64_t steps, std::vector<float> first, std::vector<float> second);

 private:
  AdamWOptions options_;
  std::vector<uint8_t> decayed_;  // [layout.size()] 1 where weight decay applies
  std::vector<float> m_, v_;
  int64_t steps_ = 0;
};

// L2 norm of a gradient buffer, summed in double in a fixed order.
double gradient_norm(const float* grads, size_t n);
// Scales grads so their norm is at most max_norm (max_norm <= 0: no clip).
// Returns the norm before clipping.
double clip_gradient_norm(float* grads, size_t n, double max_norm);

struct LearningRateSchedule {
  float peak = 1e-3f;
  float floor = 1e-4f;        // the rate at the end of the cosine
  int64_t warmup_steps = 0;   // linear from peak/warmup_steps up to peak
  int64_t total_steps = 1;
};
// The rate of step (0-based): linear warmup, then cosine from peak to floor
// over the remaining steps; floor after total_steps.
float learning_rate_at(const LearningRateSchedule& schedule, int64_t step);

}  // namespace lmpack
