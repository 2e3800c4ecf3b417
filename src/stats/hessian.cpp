// Hessian accumulation; see hessian.h.
//
// The rank-k update XᵀX is done in chunks of kChunkRows rows: a chunk is
// transposed into double [cols, chunk] so that every entry of H is a
// contiguous dot product, and the upper triangle's rows are spread over the
// thread team. The lower triangle is mirrored at the end of each add.
#include "stats/hessian.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"

namespace lmpack {
namespace {

constexpr int64_t kChunkRows = 256;

}  // namespace

Hessian make_hessian(int64_t cols) {
  if (cols <= 0) throw Error("hessian", cat("cols must be > 0, got ", cols));
  Hessian hessian;
  hessian.cols = cols;
  hessian.h.assign(static_cast<size_t>(cols * cols), 0.0);
  return hessian;
}

void hessian_add(Hessian& hessian, const float* x, int64_t rows) {
  const int64_t n = hessian.cols;
  if (n <= 0 || static_cast<int64_t>(hessian.h.size()) != n * n)
    throw Error("hessian", cat("not initialised (cols ", n, ", ", hessian.h.size(), " entries); use make_hessian"));
  if (rows < 0) throw Error("hessian", cat("row count must be >= 0, got ", rows));
  if (rows == 0) return;

  const int64_t total = hessian.samples + rows;
  const double keep = static_cast<double>(hessian.samples) / static_cast<double>(total);
  const double add = 2.0 / static_cast<double>(total);
  double* h = hessian.h.data();
  parallel_for(n, [&](int64_t i) {
    for (int64_t j = i; j < n; ++j) h[i * n + j] *= keep;
  });

  std::vector<double> xt(static_cast<size_t>(n * std::min(rows, kChunkRows)));
  for (int64_t r0 = 0; r0 < rows; r0 += kChunkRows) {
    const int64_t m = std::min(kChunkRows, rows - r0);
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < n; ++c) xt[c * m + r] = static_cast<double>(x[(r0 + r) * n + c]);
    parallel_for(n, [&](int64_t i) {
      const double* xi = xt.data() + i * m;
      for (int64_t j = i; j < n; ++j) {
        const double* xj = xt.data() + j * m;
        double s = 0.0;
        for (int64_t r = 0; r < m; ++r) s += xi[r] * xj[r];
        h[i * n + j] += add * s;
      }
    });
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j) h[i * n + j] = h[j * n + i];
  hessian.samples = total;
}

}  // namespace lmpack
