// ActStats (stats/act_stats.h): per-column sums of squares across calls and
// names, in double, the parallel path (wide inputs) equal to a plain loop, and
// the mean of x² per column (the values of an importance matrix).
#include "stats/act_stats.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace lmpack {
namespace {

TEST(ActStats, AccumulatesMeanSquaresPerColumn) {
  ActStats s;
  const std::vector<float> a = {1, -2, 3, 0.5f, 0, -1};  // [2, 3]
  const std::vector<float> b = {2, 2, 2};                // [1, 3]
  s.add("blk.0.attn_q.weight", a.data(), 2, 3);
  s.add("blk.0.attn_q.weight", b.data(), 1, 3);
  s.add("output.weight", b.data(), 1, 3);
  ASSERT_EQ(s.entries().size(), 2u);
  const ActStats::Entry& e = s.entries().at("blk.0.attn_q.weight");
  EXPECT_EQ(e.count, 3);
  EXPECT_EQ(e.sum_sq, std::vector<double>({1 + 0.25 + 4, 4 + 0 + 4, 9 + 1 + 4}));
  const std::map<std::string, std::vector<float>> values = s.mean_squares();
  ASSERT_EQ(values.size(), 2u);
  EXPECT_FLOAT_EQ(values.at("blk.0.attn_q.weight")[0], 5.25f / 3);
  EXPECT_FLOAT_EQ(values.at("blk.0.attn_q.weight")[2], 14.0f / 3);
  EXPECT_EQ(values.at("output.weight"), std::vector<float>({4, 4, 4}));
}

TEST(ActStats, WideInputsMatchAPlainLoop) {
  const int64_t m = 300, cols = 1000;  // large enough for the parallel path
  std::mt19937 gen(3);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> x(m * cols);
  for (float& v : x) v = dist(gen);
  ActStats s;
  s.add("w", x.data(), m, cols);
  s.add("w", x.data(), 1, cols);  // and a single row
  const ActStats::Entry& e = s.entries().at("w");
  EXPECT_EQ(e.count, m + 1);
  for (int64_t c = 0; c < cols; ++c) {
    double want = static_cast<double>(x[c]) * x[c];
    for (int64_t i = 0; i < m; ++i) want += static_cast<double>(x[i * cols + c]) * x[i * cols + c];
    ASSERT_DOUBLE_EQ(e.sum_sq[c], want) << c;
  }
}

TEST(ActStats, EmptyAddKeepsNoValue) {
  ActStats s;
  EXPECT_TRUE(s.empty());
  const float x = 1.0f;
  s.add("w", &x, 0, 1);  // rows 0: seen, but nothing to average
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(s.mean_squares().empty());
}

}  // namespace
}  // namespace lmpack
