// AdamW against the update written out in double, decay only on matrices,
// exact resume from saved moments, the gradient clip, the schedule, and a
// tiny model that learns a sequence by heart with them.
#include "train/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "gradient_check.h"
#include "kernels/ops.h"
#include "train/losses.h"
#include "train/training_pass.h"

namespace lmpack {
namespace {

ModelConfig small_config() {
  ModelConfig c;
  c.dim = 16;
  c.hidden_dim = 32;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 4;
  c.vocab_size = 13;
  c.context_length = 16;
  c.tied_embeddings = true;
  return c;
}

TEST(AdamW, MatchesTheUpdateWrittenOutInDouble) {
  const ParameterLayout layout(small_config());
  AdamWOptions o;
  o.weight_decay = 0.05f;
  AdamW adam(layout, o);
  auto values = testing::random_floats(layout.size(), 81);
  std::vector<double> x(values.begin(), values.end()), m(x.size(), 0.0), v(x.size(), 0.0);
  for (int step = 1; step <= 3; ++step) {
    const float lr = 0.01f * static_cast<float>(step);
    const auto g = testing::random_floats(layout.size(), 90 + step);
    const std::vector<double> before = x;  // decay is on the value before the step
    adam.step(values.data(), g.data(), lr);
    for (size_t i = 0; i < x.size(); ++i) {
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * static_cast<double>(g[i]);
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * static_cast<double>(g[i]) * g[i];
      const double mh = m[i] / (1 - std::pow(o.beta1, step)), vh = v[i] / (1 - std::pow(o.beta2, step));
      x[i] -= lr * (mh / (std::sqrt(vh) + o.eps));
    }
    // Decay: on every 2-D tensor, on no 1-D one.
    for (const ParameterTensor& t : layout.tensors())
      if (t.shape.size() == 2)
        for (size_t i = t.offset; i < t.offset + t.size; ++i) x[i] -= lr * o.weight_decay * before[i];
  }
  double worst = 0.0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - values[i]));
  EXPECT_LT(worst, 1e-5);
  EXPECT_EQ(adam.steps(), 3);
}

TEST(AdamW, ResumedFromItsMomentsContinuesBitForBit) {
  const ParameterLayout layout(small_config());
  auto start = testing::random_floats(layout.size(), 82);
  std::vector<std::vector<float>> grads;
  for (int s = 0; s < 4; ++s) grads.push_back(testing::random_floats(layout.size(), 100 + s));
  AdamW straight(layout, {});
  std::vector<float> a = start;
  for (int s = 0; s < 4; ++s) straight.step(a.data(), grads[s].data(), 0.01f);
  AdamW first(layout, {});
  std::vector<float> b = start;
  for (int s = 0; s < 2; ++s) first.step(b.data(), grads[s].data(), 0.01f);
  AdamW second(layout, {});
  second.restore(first.steps(), first.first_moment(), first.second_moment());
  for (int s = 2; s < 4; ++s) second.step(b.data(), grads[s].data(), 0.01f);
  EXPECT_EQ(a, b);
  EXPECT_THROW(second.restore(1, std::vector<float>(3), std::vector<float>(3)), Error);
}

TEST(GradientClip, ScalesToTheNormAndReportsTheOldOne) {
  std::vector<float> g = {3.0f, 4.0f};
  EXPECT_DOUBLE_EQ(clip_gradient_norm(g.data(), 2, 1.0), 5.0);
  EXPECT_NEAR(g[0], 0.6f, 1e-7f);
  EXPECT_NEAR(g[1], 0.8f, 1e-7f);
  EXPECT_NEAR(clip_gradient_norm(g.data(), 2, 2.0), 1.0, 1e-7);
  EXPECT_NEAR(g[0], 0.6f, 1e-7f);  // under the bound: unchanged
  EXPECT_NEAR(clip_gradient_norm(g.data(), 2, 0.0), 1.0, 1e-7);
}

TEST(LearningRateSchedule, WarmsUpThenFollowsTheCosineToTheFloor) {
  const LearningRateSchedule s{1e-3f, 1e-4f, 10, 110};
  EXPECT_FLOAT_EQ(learning_rate_at(s, 0), 1e-4f);
  EXPECT_FLOAT_EQ(learning_rate_at(s, 9), 1e-3f);
  EXPECT_FLOAT_EQ(learning_rate_at(s, 10), 1e-3f);
  EXPECT_NEAR(learning_rate_at(s, 60), 5.5e-4f, 1e-9f);  // half way down the cosine
  EXPECT_NEAR(learning_rate_at(s, 109), 1e-4f, 5e-7f);  // one step before the end
  EXPECT_FLOAT_EQ(learning_rate_at(s, 500), 1e-4f);
}

// The pieces together: a tiny model learns one sequence by heart.
TEST(AdamW, TrainsATinyModelToRecallASequence) {
  const ModelConfig c = small_config();
  TrainableModel m{ParameterLayout(c), testing::random_floats(ParameterLayout(c).size(), 83, -0.1f, 0.1f),
                   std::vector<float>(c.head_dim / 2), ""};
  rope_inv_freq(m.rope_inv_freq.data(), c.head_dim, c.rope_theta);
  for (const ParameterTensor& t : m.layout.tensors())
    if (t.shape.size() == 1)
      for (size_t i = 0; i < t.size; ++i) m.values[t.offset + i] = 1.0f;
  const std::vector<int32_t> text = {1, 5, 9, 2, 2, 7, 12, 0, 3, 11, 4, 6, 8, 10, 1, 5, 9};
  std::vector<int32_t> tokens(text.begin(), text.end() - 1), targets(text.begin() + 1, text.end());
  const int64_t seq = static_cast<int64_t>(tokens.size());
  TrainingPass pass(m, 1, seq);
  AdamW adam(m.layout, {});
  std::vector<float> logits(seq * c.vocab_size), grads(m.layout.size());
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 150; ++step) {
    pass.forward(tokens.data(), logits.data());
    last = cross_entropy(logits.data(), logits.data(), targets.data(), seq, c.vocab_size);
    if (step == 0) first = last;
    std::fill(grads.begin(), grads.end(), 0.0f);
    pass.backward(logits.data(), grads.data());
    clip_gradient_norm(grads.data(), grads.size(), 1.0);
    adam.step(m.values.data(), grads.data(), 1e-2f);
  }
  EXPECT_GT(first, 2.0);  // ~ln 13 at the start
  EXPECT_LT(last, 0.05) << "from " << first;
}

}  // namespace
}  // namespace lmpack
