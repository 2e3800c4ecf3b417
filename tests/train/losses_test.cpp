// cross_entropy against values written out by hand and against finite
// differences of itself; rows without a target count for nothing.
#include "train/losses.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "gradient_check.h"
#include "train/teacher_cache.h"

namespace lmpack {
namespace {

TEST(CrossEntropy, KnownValueAndIgnoredRows) {
  // Row 0: logits (0, ln 3) -> p = (1/4, 3/4), target 1: -ln(3/4). Row 1 ignored.
  std::vector<float> logits = {0.0f, std::log(3.0f), 5.0f, -5.0f}, d(4);
  std::vector<int32_t> targets = {1, -1};
  const double loss = cross_entropy(d.data(), logits.data(), targets.data(), 2, 2);
  EXPECT_NEAR(loss, -std::log(0.75), 1e-6);
  EXPECT_NEAR(d[0], 0.25f, 1e-6f);
  EXPECT_NEAR(d[1], -0.25f, 1e-6f);
  EXPECT_EQ(d[2], 0.0f);
  EXPECT_EQ(d[3], 0.0f);
  std::vector<int32_t> none = {-1, -1};
  EXPECT_EQ(cross_entropy(d.data(), logits.data(), none.data(), 2, 2), 0.0);
  std::vector<int32_t> bad = {0, 2};
  EXPECT_THROW(cross_entropy(d.data(), logits.data(), bad.data(), 2, 2), Error);
}

TEST(CrossEntropy, GradientMatchesFiniteDifferencesAndMayOverwriteLogits) {
  const int64_t rows = 4, vocab = 9;
  auto logits = testing::random_floats(rows * vocab, 71, -3.0f, 3.0f);
  std::vector<int32_t> targets = {0, 8, -1, 4};
  std::vector<float> d(logits.size()), scratch(logits.size());
  auto loss = [&] { return cross_entropy(scratch.data(), logits.data(), targets.data(), rows, vocab); };
  const double value = cross_entropy(d.data(), logits.data(), targets.data(), rows, vocab);
  testing::expect_gradient_near("dlogits", d.data(), testing::numeric_gradient(logits.data(), logits.size(), loss, 1e-3f),
                                1e-4, 1e-2);
  std::vector<float> in_place = logits;
  EXPECT_DOUBLE_EQ(cross_entropy(in_place.data(), in_place.data(), targets.data(), rows, vocab), value);
  for (size_t i = 0; i < d.size(); ++i) EXPECT_EQ(in_place[i], d[i]) << i;
}

TEST(DistillationKl, ZeroForTheTeacherItselfAndGradientsMatchFiniteDifferences) {
  const int64_t rows = 3, vocab = 7;
  const auto teacher = testing::random_floats(rows * vocab, 72, -4.0f, 4.0f);
  auto student = testing::random_floats(rows * vocab, 73, -4.0f, 4.0f);
  std::vector<float> d(student.size()), scratch(student.size());
  EXPECT_NEAR(distillation_kl(d.data(), teacher.data(), teacher.data(), rows, vocab, 2.0f), 0.0, 1e-12);
  for (float g : d) EXPECT_NEAR(g, 0.0f, 1e-7f);
  for (float t : {1.0f, 2.0f, 4.0f}) {
    auto loss = [&] { return distillation_kl(scratch.data(), student.data(), teacher.data(), rows, vocab, t); };
    const double value = distillation_kl(d.data(), student.data(), teacher.data(), rows, vocab, t);
    EXPECT_GT(value, 0.01);
    testing::expect_gradient_near("T=" + std::to_string(t), d.data(),
                                  testing::numeric_gradient(student.data(), student.size(), loss, 1e-3f), 1e-4, 1e-2);
  }
  // KL of a known pair: p = (1/2, 1/2), q = (1/4, 3/4): 1/2 ln 2 + 1/2 ln(2/3).
  const std::vector<float> t2 = {0.0f, 0.0f}, s2 = {0.0f, std::log(3.0f)};
  std::vector<float> d2(2);
  EXPECT_NEAR(distillation_kl(d2.data(), s2.data(), t2.data(), 1, 2, 1.0f), 0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0),
              1e-7);
  EXPECT_THROW(distillation_kl(d2.data(), s2.data(), t2.data(), 1, 2, 0.0f), Error);
}

TEST(HiddenStateDistance, KnownValueZeroForTheTeacherAndGradientsMatchFiniteDifferences) {
  // |s - t|^2 = 1 + 4 = 5 over |t|^2 = 1 + 1 + 4 + 4 = 10.
  const std::vector<float> t = {1.0f, -1.0f, 2.0f, 2.0f}, s = {2.0f, -1.0f, 2.0f, 0.0f};
  std::vector<float> d(4);
  EXPECT_NEAR(hidden_state_distance(d.data(), s.data(), t.data(), 2, 2), 0.5, 1e-12);
  EXPECT_EQ(d, (std::vector<float>{0.2f, 0.0f, 0.0f, -0.4f}));
  EXPECT_EQ(hidden_state_distance(d.data(), t.data(), t.data(), 2, 2), 0.0);
  const std::vector<float> zeros(4, 0.0f);
  EXPECT_EQ(hidden_state_distance(d.data(), s.data(), zeros.data(), 2, 2), 0.0);
  EXPECT_EQ(d, zeros);

  const int64_t rows = 3, dim = 5;
  const auto teacher = testing::random_floats(rows * dim, 74, -2.0f, 2.0f);
  auto student = testing::random_floats(rows * dim, 75, -2.0f, 2.0f);
  std::vector<float> grad(student.size()), scratch(student.size());
  auto loss = [&] { return hidden_state_distance(scratch.data(), student.data(), teacher.data(), rows, dim); };
  EXPECT_GT(hidden_state_distance(grad.data(), student.data(), teacher.data(), rows, dim), 0.1);
  testing::expect_gradient_near("dstudent", grad.data(),
                                testing::numeric_gradient(student.data(), student.size(), loss, 1e-3f), 1e-4, 1e-2);
}

// Against the whole vocabulary the top-k loss is the full one; with fewer
// tokens its gradient still matches finite differences.
TEST(DistillationKlTopK, EqualsTheFullLossAtKEqualsVocabAndHasItsGradient) {
  const int64_t rows = 2, vocab = 6;
  const auto teacher = testing::random_floats(rows * vocab, 74, -3.0f, 3.0f);
  auto student = testing::random_floats(rows * vocab, 75, -3.0f, 3.0f);
  for (int64_t k : {vocab, int64_t{3}}) {
    std::vector<int32_t> ids(rows * k);
    std::vector<float> lp(rows * k), d(student.size()), scratch(student.size()), full(student.size());
    top_k_log_probs(teacher.data(), rows, vocab, k, ids.data(), lp.data());
    const double value = distillation_kl_top_k(d.data(), student.data(), ids.data(), lp.data(), rows, vocab, k, 2.0f);
    if (k == vocab) {
      EXPECT_NEAR(value, distillation_kl(full.data(), student.data(), teacher.data(), rows, vocab, 2.0f), 1e-6);
      for (size_t i = 0; i < d.size(); ++i) EXPECT_NEAR(d[i], full[i], 1e-6f) << i;
    }
    auto loss = [&] {
      return distillation_kl_top_k(scratch.data(), student.data(), ids.data(), lp.data(), rows, vocab, k, 2.0f);
    };
    testing::expect_gradient_near("k=" + std::to_string(k), d.data(),
                                  testing::numeric_gradient(student.data(), student.size(), loss, 1e-3f), 1e-4, 1e-2);
  }
}

}  // namespace
}  // namespace lmpack
