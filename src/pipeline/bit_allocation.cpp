// allocate_bits; see bit_allocation.h.
#include "pipeline/bit_allocation.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace lmpack {

AllocationResult allocate_bits(const std::vector<AllocationItem>& items, uint64_t budget) {
  uint64_t smallest = 0;
  for (const AllocationItem& item : items) {
    if (item.options.empty()) throw Error("target", cat(item.name, ": no type to choose from"));
    if (item.options.size() > 255) throw Error("target", cat(item.name, ": more than 255 types to choose from"));
    uint64_t least = std::numeric_limits<uint64_t>::max();
    for (const AllocationOption& o : item.options) least = std::min(least, o.bytes);
    smallest += least;
  }
  if (smallest > budget)
    throw Error("target", cat("the budget of ", budget, " bytes is below the smallest choice of every tensor (",
                              smallest, " bytes)"));
  const auto n = static_cast<int64_t>(items.size());
  AllocationResult result;
  result.chosen.assign(items.size(), 0);
  if (n == 0) return result;

  // The table's resolution: at most 16 M cells of backtracking, at most
  // kAllocationSteps units, at least 2^14 (when the budget has that many bytes).
  const int64_t steps = std::clamp<int64_t>((int64_t{1} << 24) / n, int64_t{1} << 14, kAllocationSteps);
  const uint64_t unit = std::max<uint64_t>(1, (budget + static_cast<uint64_t>(steps) - 1) / static_cast<uint64_t>(steps));
  const auto capacity = static_cast<int64_t>(budget / unit);
  auto units = [&](uint64_t bytes) { return static_cast<int64_t>((bytes + unit - 1) / unit); };

  // best[c]: the least loss of the items so far within c units.
  constexpr double kNone = std::numeric_limits<double>::infinity();
  std::vector<double> best(static_cast<size_t>(capacity) + 1, 0.0), next(best.size());
  std::vector<uint8_t> pick(static_cast<size_t>(n) * best.size());
  for (int64_t i = 0; i < n; ++i) {
    const std::vector<AllocationOption>& options = items[static_cast<size_t>(i)].options;
    // Fewer bytes first, so that of equal losses the smaller wins.
    std::vector<size_t> order(options.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return options[a].bytes < options[b].bytes; });
    uint8_t* row = pick.data() + i * static_cast<int64_t>(best.size());
    for (int64_t c = 0; c <= capacity; ++c) {
      double least = kNone;
      uint8_t which = 0;
      for (size_t k : order) {
        const int64_t w = units(options[k].bytes);
        if (w > c) continue;
        const double v = best[static_cast<size_t>(c - w)] + options[k].loss;
        if (v < least) {
          least = v;
          which = static_cast<uint8_t>(k);
        }
      }
      next[static_cast<size_t>(c)] = least;
      row[c] = which;
    }
    best.swap(next);
  }
  // Rounding up can leave the smallest choices beyond the table when the
  // budget barely holds them; their exact total fits (checked above).
  if (best[static_cast<size_t>(capacity)] == kNone) {
    for (int64_t i = 0; i < n; ++i) {
      const auto& options = items[static_cast<size_t>(i)].options;
      result.chosen[static_cast<size_t>(i)] = static_cast<size_t>(
          std::min_element(options.begin(), options.end(),
                           [](const AllocationOption& a, const AllocationOption& b) { return a.bytes < b.bytes; }) -
          options.begin());
    }
  } else {
    int64_t c = capacity;
    for (int64_t i = n - 1; i >= 0; --i) {
      const uint8_t k = pick[static_cast<size_t>(i * static_cast<int64_t>(best.size()) + c)];
      result.chosen[static_cast<size_t>(i)] = k;
      c -= units(items[static_cast<size_t>(i)].options[k].bytes);
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const AllocationOption& o = items[static_cast<size_t>(i)].options[result.chosen[static_cast<size_t>(i)]];
    result.bytes += o.bytes;
    result.loss += o.loss;
  }
  return result;
}

}  // namespace lmpack
