// allocate_bits against exhaustive search on small instances, and its edges:
// a budget below every smallest choice, a budget that holds the largest,
// ties, items without options.
#include "pipeline/bit_allocation.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"

namespace lmpack {
namespace {

// The least total loss within `budget`, by trying every combination.
double exhaustive_best(const std::vector<AllocationItem>& items, uint64_t budget) {
  double best = std::numeric_limits<double>::infinity();
  std::vector<size_t> pick(items.size(), 0);
  while (true) {
    uint64_t bytes = 0;
    double loss = 0.0;
    for (size_t i = 0; i < items.size(); ++i) {
      bytes += items[i].options[pick[i]].bytes;
      loss += items[i].options[pick[i]].loss;
    }
    if (bytes <= budget) best = std::min(best, loss);
    size_t i = 0;
    while (i < items.size() && ++pick[i] == items[i].options.size()) pick[i++] = 0;
    if (i == items.size()) break;
  }
  return best;
}

// Items shaped like tensors: more bytes, less loss, with a sensitivity per item.
std::vector<AllocationItem> random_items(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> params(1, 64);
  std::uniform_real_distribution<double> gain(0.01, 10.0);
  const double bits[] = {2.625, 3.4375, 4.5, 5.5, 6.5625};
  std::vector<AllocationItem> items(n);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t p = static_cast<uint64_t>(params(rng)) * 256;
    const double g = gain(rng);
    items[i].name = cat("t", i);  // not "t" + std::to_string(i): GCC 12 warns (-Wrestrict) inside libstdc++ on that
    for (double b : bits) items[i].options.push_back({static_cast<uint64_t>(p * b / 8), g * std::pow(2.0, -2.0 * b)});
  }
  return items;
}

TEST(BitAllocation, MatchesExhaustiveSearchOnSmallInstances) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const std::vector<AllocationItem> items = random_items(rng, 6);
    uint64_t lo = 0, hi = 0;
    for (const auto& it : items) {
      lo += it.options.front().bytes;
      hi += it.options.back().bytes;
    }
    const uint64_t budget = lo + (hi - lo) * static_cast<uint64_t>(trial % 10 + 1) / 11;
    const AllocationResult r = allocate_bits(items, budget);
    EXPECT_LE(r.bytes, budget);
    const double best = exhaustive_best(items, budget);
    // Exact: these budgets are under 2^18 bytes, so a table unit is one byte.
    ASSERT_LT(budget, uint64_t{1} << 18);
    EXPECT_LE(r.loss, best * (1.0 + 1e-9) + 1e-15) << "trial " << trial;
    // The reported totals are the chosen options' sums.
    uint64_t bytes = 0;
    double loss = 0.0;
    for (size_t i = 0; i < items.size(); ++i) {
      bytes += items[i].options[r.chosen[i]].bytes;
      loss += items[i].options[r.chosen[i]].loss;
    }
    EXPECT_EQ(bytes, r.bytes);
    EXPECT_DOUBLE_EQ(loss, r.loss);
  }
}

TEST(BitAllocation, TakesOptionsAboveTheConvexHullWhenTheyAreBest) {
  // Item a: its middle option is above the hull of its others, yet with this
  // budget the best total uses it (a Lagrangian search would not).
  std::vector<AllocationItem> items = {{"a", {{10, 100.0}, {20, 60.0}, {30, 0.0}}},
                                       {"b", {{10, 100.0}, {20, 0.0}}}};
  const AllocationResult r = allocate_bits(items, 40);
  EXPECT_EQ(r.chosen[0], 1u);
  EXPECT_EQ(r.chosen[1], 1u);
  EXPECT_DOUBLE_EQ(r.loss, 60.0);
  EXPECT_EQ(r.bytes, 40u);
}

TEST(BitAllocation, LargestWhenTheBudgetHoldsEverything) {
  std::mt19937 rng(3);
  const std::vector<AllocationItem> items = random_items(rng, 30);
  const AllocationResult r = allocate_bits(items, std::numeric_limits<uint32_t>::max());
  for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(r.chosen[i], items[i].options.size() - 1);
}

TEST(BitAllocation, SmallestWhenTheBudgetIsExactlyTheSmallest) {
  std::mt19937 rng(5);
  const std::vector<AllocationItem> items = random_items(rng, 300);
  uint64_t lo = 0;
  for (const auto& it : items) lo += it.options.front().bytes;
  const AllocationResult r = allocate_bits(items, lo);
  EXPECT_EQ(r.bytes, lo);
  for (size_t c : r.chosen) EXPECT_EQ(c, 0u);
}

TEST(BitAllocation, FillsTheBudgetOfManyItemsClosely) {
  // A model's worth of tensors: the rounding to table units costs little.
  std::mt19937 rng(11);
  const std::vector<AllocationItem> items = random_items(rng, 300);
  uint64_t lo = 0, hi = 0;
  for (const auto& it : items) {
    lo += it.options.front().bytes;
    hi += it.options.back().bytes;
  }
  const uint64_t budget = (lo + hi) / 2;
  const AllocationResult r = allocate_bits(items, budget);
  EXPECT_LE(r.bytes, budget);
  EXPECT_GE(static_cast<double>(r.bytes), 0.99 * static_cast<double>(budget));
}

TEST(BitAllocation, EqualLossesTakeFewerBytes) {
  std::vector<AllocationItem> items = {{"a", {{30, 1.0}, {10, 1.0}, {20, 1.0}}}};
  const AllocationResult r = allocate_bits(items, 100);
  EXPECT_EQ(r.chosen[0], 1u);
}

TEST(BitAllocation, RefusesABudgetBelowTheSmallestAndItemsWithoutOptions) {
  std::vector<AllocationItem> items = {{"a", {{10, 1.0}, {20, 0.5}}}, {"b", {{15, 1.0}}}};
  try {
    allocate_bits(items, 24);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "target");
    EXPECT_NE(std::string(e.what()).find("25 bytes"), std::string::npos) << e.what();
  }
  items.push_back({"c", {}});
  EXPECT_THROW(allocate_bits(items, 1000), Error);
  EXPECT_TRUE(allocate_bits({}, 0).chosen.empty());
}

}  // namespace
}  // namespace lmpack
