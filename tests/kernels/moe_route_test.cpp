// moe_route / moe_dispatch against values worked out by hand: softmax over
// every expert's logit, the k most probable, renormalized or not.
#include "kernels/moe_route.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace lmpack {
namespace {

TEST(MoeRoute, SoftmaxThenTopKThenRenormalize) {
  // logits 1, 3, 2, 0: probabilities e^l / (e^0 + e^1 + e^2 + e^3).
  const double z = std::exp(0.0) + std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  std::vector<float> logits = {1.0f, 3.0f, 2.0f, 0.0f};
  int32_t chosen[2];
  float w[2];
  moe_route(logits.data(), 4, 2, /*renormalize=*/false, chosen, w);
  EXPECT_EQ(chosen[0], 1);
  EXPECT_EQ(chosen[1], 2);
  EXPECT_NEAR(w[0], std::exp(3.0) / z, 1e-6);
  EXPECT_NEAR(w[1], std::exp(2.0) / z, 1e-6);
  EXPECT_NEAR(logits[3], 1.0 / z, 1e-6);  // left as probabilities

  logits = {1.0f, 3.0f, 2.0f, 0.0f};
  moe_route(logits.data(), 4, 2, /*renormalize=*/true, chosen, w);
  EXPECT_NEAR(w[0], std::exp(3.0) / (std::exp(3.0) + std::exp(2.0)), 1e-6);
  EXPECT_NEAR(w[0] + w[1], 1.0, 1e-6);

  // Ties go to the lower index; k = n_experts takes them all.
  logits = {0.5f, 0.5f, 0.5f};
  int32_t all[3];
  float wa[3];
  moe_route(logits.data(), 3, 3, true, all, wa);
  EXPECT_EQ(all[0], 0);
  EXPECT_EQ(all[1], 1);
  EXPECT_EQ(all[2], 2);
  EXPECT_NEAR(wa[2], 1.0 / 3.0, 1e-6);
}

TEST(MoeRoute, DispatchGroupsRowsByExpert) {
  // Row 0 prefers experts 2 then 0; row 1 prefers 0 then 1; row 2: 2 then 1.
  std::vector<float> logits = {1.0f, 0.0f, 2.0f, 3.0f, 2.0f, -1.0f, -2.0f, 0.0f, 1.0f};
  std::vector<std::vector<int64_t>> rows;
  std::vector<std::vector<float>> weights;
  moe_dispatch(logits.data(), 3, 3, 2, true, rows, weights);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(rows[1], (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(rows[2], (std::vector<int64_t>{0, 2}));
  EXPECT_NEAR(weights[2][0], std::exp(2.0) / (std::exp(2.0) + std::exp(1.0)), 1e-6);  // row 0's first choice
  EXPECT_NEAR(weights[0][0] + weights[2][0], 1.0, 1e-6);
}

}  // namespace
}  // namespace lmpack
