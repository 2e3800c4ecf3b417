// Sampler: greedy ties, seeded determinism, temperature sampling that follows
// the distribution, and top-p restricted to the nucleus.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace lmpack {
namespace {

std::vector<float> logits_of(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

TEST(Sampler, GreedyTakesLowestIdOnTies) {
  const float logits[] = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
  EXPECT_EQ(sample_argmax(logits, 5), 1);
  Sampler s(SamplerOptions{});
  EXPECT_EQ(s.sample(logits, 5), 1);
  Sampler cold(SamplerOptions{-1.0f, 0.5f, 3});
  EXPECT_EQ(cold.sample(logits, 5), 1);
}

TEST(Sampler, RngIsDeterministicAndUniform) {
  Rng a(17), b(17), c(18);
  EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(a.next_u64(), c.next_u64());
  Rng r(1);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const float f = r.next_float();
    ASSERT_GE(f, 0.0f);
    ASSERT_LT(f, 1.0f);
    sum += f;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
}

TEST(Sampler, TemperatureFollowsTheDistribution) {
  const std::vector<double> probs = {0.5, 0.25, 0.15, 0.1};
  const auto logits = logits_of(probs);
  Sampler s(SamplerOptions{1.0f, 1.0f, 123});
  std::vector<int> counts(4);
  const int n = 40000;
  for (int i = 0; i < n; ++i) counts[s.sample(logits.data(), 4)]++;
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(counts[i] / double(n), probs[i], 0.01) << i;
  // Temperature 0.5 squares the odds: p ~ probs^2.
  Sampler sharp(SamplerOptions{0.5f, 1.0f, 9});
  std::vector<int> sharp_counts(4);
  for (int i = 0; i < n; ++i) sharp_counts[sharp.sample(logits.data(), 4)]++;
  double z = 0;
  for (double p : probs) z += p * p;
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(sharp_counts[i] / double(n), probs[i] * probs[i] / z, 0.01) << i;
}

TEST(Sampler, TopPKeepsOnlyTheNucleus) {
  // Sorted mass: 0.5, 0.8 (> 0.7) -> nucleus {0, 3} renormalised to 5/8, 3/8.
  const auto logits = logits_of({0.5, 0.15, 0.05, 0.3});
  Sampler s(SamplerOptions{1.0f, 0.7f, 77});
  std::vector<int> counts(4);
  const int n = 20000;
  for (int i = 0; i < n; ++i) counts[s.sample(logits.data(), 4)]++;
  EXPECT_EQ(counts[1], 0);
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[0] / double(n), 0.625, 0.015);
  EXPECT_NEAR(counts[3] / double(n), 0.375, 0.015);
  // A tiny top_p leaves only the most likely token.
  Sampler narrow(SamplerOptions{1.0f, 0.01f, 1});
  for (int i = 0; i < 100; ++i) ASSERT_EQ(narrow.sample(logits.data(), 4), 0);
}

TEST(Sampler, SameSeedSameSequence) {
  std::vector<float> logits(300);
  for (int i = 0; i < 300; ++i) logits[i] = std::sin(i * 0.37f) * 3;
  Sampler a(SamplerOptions{0.8f, 0.9f, 42}), b(SamplerOptions{0.8f, 0.9f, 42}), c(SamplerOptions{0.8f, 0.9f, 43});
  std::vector<int32_t> sa, sb, sc;
  for (int i = 0; i < 50; ++i) {
    sa.push_back(a.sample(logits.data(), 300));
    sb.push_back(b.sample(logits.data(), 300));
    sc.push_back(c.sample(logits.data(), 300));
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(Sampler, RejectsBadOptions) {
  EXPECT_THROW(Sampler(SamplerOptions{1.0f, 0.0f, 1}), Error);
  EXPECT_THROW(Sampler(SamplerOptions{NAN, 0.9f, 1}), Error);
}

}  // namespace
}  // namespace lmpack
