#include "stats/act_stats.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"

namespace lmpack {

void ActStats::add(const std::string& name, const float* x, int64_t m, int64_t cols) {
  LMPACK_CHECK(m >= 0 && cols > 0);
  Entry& e = entries_[name];
  if (e.sum_sq.empty()) e.sum_sq.assign(cols, 0.0);
  LMPACK_CHECK(static_cast<int64_t>(e.sum_sq.size()) == cols, "column count changed between calls");
  double* s = e.sum_sq.data();
  // Columns in blocks across threads: each block owns its sums, rows in order,
  // so the result does not depend on the thread count.
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  auto run = [&](int64_t b) {
    const int64_t c0 = b * kBlock, c1 = std::min(cols, c0 + kBlock);
    for (int64_t i = 0; i < m; ++i) {
      const float* row = x + i * cols;
      for (int64_t c = c0; c < c1; ++c) s[c] += static_cast<double>(row[c]) * row[c];
    }
  };
  if (m * cols >= (int64_t{1} << 16) && blocks > 1) {
    parallel_for(blocks, run);
  } else {
    for (int64_t b = 0; b < blocks; ++b) run(b);
  }
  e.count += m;
}

std::map<std::string, std::vector<float>> ActStats::mean_squares() const {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, e] : entries_) {
    if (e.count == 0) continue;
    std::vector<float> v(e.sum_sq.size());
    for (size_t c = 0; c < v.size(); ++c) v[c] = static_cast<float>(e.sum_sq[c] / static_cast<double>(e.count));
    out.emplace(name, std::move(v));
  }
  return out;
}

}  // namespace lmpack
