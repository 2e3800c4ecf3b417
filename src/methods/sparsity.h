// Sparsity patterns and masks shared by the pruning methods (magnitude_prune,
// wanda, sparsegpt). A pattern is either unstructured, a fraction of every
// output row pruned to an exact count (round(sparsity·cols) weights per row,
// the per-output comparison group of Wanda and of SparseGPT's experiments),
// or N:M, n zeros in every m consecutive input weights of a row (SparseGPT's
// prunen:prunem; 2:4 and 4:8 are 50%). A row whose width is not a multiple
// of m ends with a partial group of k < m columns, which prunes
// floor(n·k/m) of them (no hardware N:M layout applies to it).
// A mask is [rows, cols] bytes, 1 where the weight is pruned (set to 0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmpack {

struct SparsityPattern {
  double sparsity = 0.0;  // unstructured: fraction pruned per row, in [0, 1); unused when m > 0
  int n = 0, m = 0;       // N:M when m > 0: n zeros in each group of m, 0 < n < m
  bool is_n_m() const { return m > 0; }
};

struct SparsityMask {
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> pruned;  // [rows, cols]: 1 = pruned
};

// "N:M" (e.g. "2:4") -> {n, m}; throws Error("pattern", ...) on bad text or
// values (validate_sparsity_pattern's rules).
SparsityPattern parse_n_m_pattern(const std::string& text);

// Throws Error("pattern", ...) for N:M unless 0 < n < m <= 256, and
// Error("sparsity", ...) for unstructured unless 0 <= sparsity < 1 (finite).
void validate_sparsity_pattern(const SparsityPattern& pattern);

// Weights a pattern prunes in the columns [0, c) of a row: round(sparsity·c)
// for unstructured (so blocks [c0, c1) prune pruned_before(c1) -
// pruned_before(c0) and a whole row exactly round(sparsity·cols)); for N:M,
// n per whole group plus floor(n·k/m) for a partial group of k columns.
int64_t pruned_before(const SparsityPattern& pattern, int64_t c);

// Marks in pruned [n] the k entries of score [n] with the smallest scores
// (ties: the lower index first); leaves the others as they are.
void mark_smallest(uint8_t* pruned, const float* score, int64_t n, int64_t k);

// The mask of one row from its scores [cols] (the lowest scores are pruned):
// unstructured, the row's pruned_before(cols) lowest; N:M, in each group of m
// (and the partial last one) its share of lowest. pruned: [cols], overwritten.
void select_row_mask(uint8_t* pruned, const float* score, int64_t cols, const SparsityPattern& pattern);

// w [rows, cols] with the masked weights set to 0 (a copy).
std::vector<float> apply_mask(const float* w, const SparsityMask& mask);

// Exact zeros in w [rows, cols] over rows·cols.
double achieved_sparsity(const float* w, int64_t rows, int64_t cols);
// Pruned entries of a mask over rows·cols.
double mask_sparsity(const SparsityMask& mask);

// Groups of m consecutive weights (per row, the partial last one included)
// holding fewer zeros in w [rows, cols] than the pattern's share
// (n, or floor(n·k/m) for k < m columns): 0 means w satisfies n:m.
int64_t n_m_violations(const float* w, int64_t rows, int64_t cols, int n, int m);

}  // namespace lmpack
