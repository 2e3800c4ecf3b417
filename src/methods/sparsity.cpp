// Sparsity patterns, masks and counts (methods/sparsity.h).
#include "methods/sparsity.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "core/error.h"
#include "core/printable.h"

namespace lmpack {
namespace {

// Zeros a group of k columns must hold under n:m.
int64_t group_share(int n, int m, int64_t k) { return k >= m ? n : static_cast<int64_t>(n) * k / m; }

}  // namespace

SparsityPattern parse_n_m_pattern(const std::string& text) {
  const size_t colon = text.find(':');
  SparsityPattern p;
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    size_t used_n = 0, used_m = 0;
    const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
    p.n = std::stoi(a, &used_n);
    p.m = std::stoi(b, &used_m);
    if (used_n != a.size() || used_m != b.size()) throw std::invalid_argument("trailing text");
  } catch (const std::logic_error&) {
    throw Error("pattern", cat("expected N:M (e.g. 2:4 or 4:8), got '", printable(text), "'"));
  }
  // Checked as N:M even for "0:0", which would otherwise read as "no pattern".
  if (!(p.m > 1 && p.m <= 256 && p.n > 0 && p.n < p.m))
    throw Error("pattern", cat("N:M needs 0 < N < M <= 256, got ", p.n, ":", p.m));
  return p;
}

void validate_sparsity_pattern(const SparsityPattern& pattern) {
  if (pattern.m != 0 || pattern.n != 0) {
    if (!(pattern.m > 1 && pattern.m <= 256 && pattern.n > 0 && pattern.n < pattern.m))
      throw Error("pattern", cat("N:M needs 0 < N < M <= 256, got ", pattern.n, ":", pattern.m));
    return;
  }
  if (!std::isfinite(pattern.sparsity) || pattern.sparsity < 0.0 || pattern.sparsity >= 1.0)
    throw Error("sparsity", cat("must be in [0, 1), got ", pattern.sparsity));
}

int64_t pruned_before(const SparsityPattern& pattern, int64_t c) {
  if (!pattern.is_n_m()) return static_cast<int64_t>(std::llround(pattern.sparsity * static_cast<double>(c)));
  return c / pattern.m * pattern.n + group_share(pattern.n, pattern.m, c % pattern.m);
}

void mark_smallest(uint8_t* pruned, const float* score, int64_t n, int64_t k) {
  if (k <= 0) return;
  if (k >= n) {
    std::fill(pruned, pruned + n, uint8_t{1});
    return;
  }
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  const auto less = [&](int64_t a, int64_t b) { return score[a] < score[b] || (score[a] == score[b] && a < b); };
  std::nth_element(idx.begin(), idx.begin() + k, idx.end(), less);
  for (int64_t j = 0; j < k; ++j) pruned[idx[j]] = 1;
}

void select_row_mask(uint8_t* pruned, const float* score, int64_t cols, const SparsityPattern& pattern) {
  std::fill(pruned, pruned + cols, uint8_t{0});
  if (!pattern.is_n_m()) {
    mark_smallest(pruned, score, cols, pruned_before(pattern, cols));
    return;
  }
  for (int64_t c0 = 0; c0 < cols; c0 += pattern.m) {
    const int64_t k = std::min<int64_t>(pattern.m, cols - c0);
    mark_smallest(pruned + c0, score + c0, k, group_share(pattern.n, pattern.m, k));
  }
}

std::vector<float> apply_mask(const float* w, const SparsityMask& mask) {
  std::vector<float> out(w, w + mask.rows * mask.cols);
  for (size_t i = 0; i < out.size(); ++i)
    if (mask.pruned[i] != 0) out[i] = 0.0f;
  return out;
}

double achieved_sparsity(const float* w, int64_t rows, int64_t cols) {
  const int64_t total = rows * cols;
  if (total <= 0) return 0.0;
  return static_cast<double>(std::count(w, w + total, 0.0f)) / static_cast<double>(total);
}

double mask_sparsity(const SparsityMask& mask) {
  if (mask.pruned.empty()) return 0.0;
  return static_cast<double>(std::count(mask.pruned.begin(), mask.pruned.end(), uint8_t{1})) /
         static_cast<double>(mask.pruned.size());
}

int64_t n_m_violations(const float* w, int64_t rows, int64_t cols, int n, int m) {
  LMPACK_CHECK(m > 0 && n >= 0);
  int64_t bad = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c0 = 0; c0 < cols; c0 += m) {
      const int64_t k = std::min<int64_t>(m, cols - c0);
      const float* g = w + r * cols + c0;
      if (std::count(g, g + k, 0.0f) < group_share(n, m, k)) ++bad;
    }
  return bad;
}

}  // namespace lmpack
