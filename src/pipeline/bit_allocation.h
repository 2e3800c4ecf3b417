// Bit allocation under a size budget: one choice per item (a tensor's
// storage type), each with its bytes and its predicted loss, so that the
// total predicted loss is the least whose total bytes fit the budget (a
// multiple-choice knapsack).
//
// Solved by dynamic programming over the budget cut into at most
// kAllocationSteps units: an item's bytes are rounded up to whole units, so
// the result always fits, and the rounding can cost at most one unit per
// item of the budget (a fraction items/kAllocationSteps). The Lagrangian
// search that the field often uses (the lower convex hull of each item's
// choices) would miss the choices that lie above that hull, which at a tight
// budget are often the best; the table is exact at its resolution and takes
// well under a second for the tensors of any LLM.
//
// Pure data: nothing here knows about models or files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmpack {

inline constexpr int64_t kAllocationSteps = int64_t{1} << 18;

struct AllocationOption {
  uint64_t bytes = 0;
  double loss = 0.0;  // predicted, >= 0
};

struct AllocationItem {
  std::string name;
  std::vector<AllocationOption> options;  // at least one
};

struct AllocationResult {
  std::vector<size_t> chosen;  // per item, an index into its options
  uint64_t bytes = 0;          // the chosen options' total
  double loss = 0.0;           // the chosen options' total
};

// Throws Error("target", ...) when even the smallest option of every item
// does not fit the budget (the message gives the smallest total), and for an
// item without options.
AllocationResult allocate_bits(const std::vector<AllocationItem>& items, uint64_t budget);

}  // namespace lmpack
