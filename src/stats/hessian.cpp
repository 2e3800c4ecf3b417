// Hessian accumulation and the output error it measures; see hessian.h.
//
// hessian_add: the rank-k update XᵀX runs in chunks of kChunkRows rows. For
// each chunk, the upper triangle of XᵀX is computed tile by tile (tile pairs
// (I, J), J >= I, kTile columns wide) with sgemm, in float, straight from the
// row-major input (op(A) = X[:, I]ᵀ, lda = cols): half the flops of a full
// XᵀX. Each float tile is added into the double H (the running-average
// rescaling of older samples is fused into the first chunk's update), so a
// float sum never spans more than kChunkRows products. The lower triangle is
// mirrored once at the end of each call, in cache-sized blocks.
//
// hessian_output_error: tr(Δ·H·Δᵀ) = Σ_{I,J} Σ_r Δ_rI·H_IJ·Δ_rJᵀ over the
// same tile pairs (off-diagonal pairs counted twice, H being symmetric). Each
// H tile is converted to float once; for each chunk of kErrorRows rows the
// two column blocks of Δ are formed in float, P = Δ_RI·H_IJ by sgemm, and
// Σ P ⊙ Δ_RJ is summed in double.
#include "stats/hessian.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/large_buffer.h"
#include "core/parallel.h"
#include "kernels/matmul.h"

namespace lmpack {
namespace {

constexpr int64_t kChunkRows = 2048;  // rows per float XᵀX (bounds the float sum length)
constexpr int64_t kTile = 512;        // columns per tile
constexpr int64_t kErrorRows = 256;   // rows of Δ per sgemm in hessian_output_error
constexpr int64_t kMirrorBlock = 64;  // block edge of the triangle mirror
constexpr int64_t kParallelWork = 1 << 15;  // elements below which loops stay serial

// h[i, j] ← a·h[i, j] + b·t[i - i0, j - j0] over the tile (only j >= i on the
// diagonal tile); a == 0 overwrites. h [n, n], t [bi, bj].
void add_tile(double* h, int64_t n, const float* t, int64_t i0, int64_t j0, int64_t bi, int64_t bj, double a,
              double b) {
  const bool diagonal = i0 == j0;
#pragma omp parallel for schedule(static) if (bi * bj >= kParallelWork)
  for (int64_t r = 0; r < bi; ++r) {
    double* hr = h + (i0 + r) * n + j0;
    const float* tr = t + r * bj;
    const int64_t c0 = diagonal ? r : 0;
    if (a == 0.0) {
      for (int64_t c = c0; c < bj; ++c) hr[c] = b * static_cast<double>(tr[c]);
    } else if (a == 1.0) {
      for (int64_t c = c0; c < bj; ++c) hr[c] += b * static_cast<double>(tr[c]);
    } else {
      for (int64_t c = c0; c < bj; ++c) hr[c] = a * hr[c] + b * static_cast<double>(tr[c]);
    }
  }
}

// Lower triangle of h [n, n] ← upper triangle, block by block.
void mirror_upper(double* h, int64_t n) {
  const int64_t nb = (n + kMirrorBlock - 1) / kMirrorBlock;
#pragma omp parallel for schedule(dynamic, 1) if (n * n >= kParallelWork)
  for (int64_t bi = 0; bi < nb; ++bi) {
    const int64_t i0 = bi * kMirrorBlock, i1 = std::min(n, i0 + kMirrorBlock);
    for (int64_t j0 = 0; j0 <= i0; j0 += kMirrorBlock) {
      const int64_t j1 = std::min(n, j0 + kMirrorBlock);
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < std::min(j1, i); ++j) h[i * n + j] = h[j * n + i];
    }
  }
}

}  // namespace

Hessian make_hessian(int64_t cols) {
  if (cols <= 0) throw Error("hessian", cat("cols must be > 0, got ", cols));
  Hessian hessian;
  hessian.cols = cols;
  hessian.h = large_vector<double>(static_cast<size_t>(cols * cols));
  return hessian;
}

void hessian_add(Hessian& hessian, const float* x, int64_t rows) {
  const int64_t n = hessian.cols;
  if (n <= 0 || static_cast<int64_t>(hessian.h.size()) != n * n)
    throw Error("hessian", cat("not initialised (cols ", n, ", ", hessian.h.size(), " entries); use make_hessian"));
  if (rows < 0) throw Error("hessian", cat("row count must be >= 0, got ", rows));
  if (rows == 0) return;

  hessian.derived.reset();
  const int64_t total = hessian.samples + rows;
  const double keep = static_cast<double>(hessian.samples) / static_cast<double>(total);
  const double add = 2.0 / static_cast<double>(total);
  double* h = hessian.h.data();
  const int64_t tile = std::min(kTile, n);
  std::vector<float> t(static_cast<size_t>(tile * tile));  // [bi, bj] of one chunk's XᵀX

  for (int64_t r0 = 0; r0 < rows; r0 += kChunkRows) {
    const int64_t m = std::min(kChunkRows, rows - r0);
    const float* xc = x + r0 * n;  // [m, n]
    const double scale_old = r0 == 0 ? keep : 1.0;
    for (int64_t i0 = 0; i0 < n; i0 += tile) {
      const int64_t bi = std::min(tile, n - i0);
      for (int64_t j0 = i0; j0 < n; j0 += tile) {
        const int64_t bj = std::min(tile, n - j0);
        // t = X[:, I]ᵀ · X[:, J]: [bi, m] · [m, bj].
        sgemm(true, false, bi, bj, m, 1.0f, xc + i0, n, xc + j0, n, 0.0f, t.data(), bj);
        add_tile(h, n, t.data(), i0, j0, bi, bj, scale_old, add);
      }
    }
  }
  mirror_upper(h, n);
  hessian.samples = total;
}

double hessian_output_error(const float* w, const float* w_hat, int64_t rows, int64_t cols, const Hessian& hessian) {
  if (rows < 0 || cols <= 0) throw Error("hessian", cat("output error of a [", rows, ", ", cols, "] matrix"));
  if (hessian.cols != cols || static_cast<int64_t>(hessian.h.size()) != cols * cols)
    throw Error("hessian", cat("output error of a [", rows, ", ", cols, "] matrix with a Hessian of ", hessian.cols,
                               " columns (", hessian.h.size(), " entries)"));
  if (rows == 0) return 0.0;

  const int64_t n = cols;
  const int64_t tile = std::min(kTile, n);
  const int64_t rb_max = std::min(kErrorRows, rows);
  std::vector<float> ht(static_cast<size_t>(tile * tile));    // H_IJ in float [bi, bj]
  std::vector<float> di(static_cast<size_t>(rb_max * tile));  // Δ_RI [rb, bi]
  std::vector<float> dj(static_cast<size_t>(rb_max * tile));  // Δ_RJ [rb, bj]
  std::vector<float> p(static_cast<size_t>(rb_max * tile));   // Δ_RI·H_IJ [rb, bj]
  const double* h = hessian.h.data();

  // dst [rb, bc] ← Δ[r0 : r0 + rb, c0 : c0 + bc].
  auto delta_block = [&](float* dst, int64_t r0, int64_t rb, int64_t c0, int64_t bc) {
#pragma omp parallel for schedule(static) if (rb * bc >= kParallelWork)
    for (int64_t r = 0; r < rb; ++r) {
      const float* wr = w + (r0 + r) * n + c0;
      float* d = dst + r * bc;
      if (w_hat) {
        const float* qr = w_hat + (r0 + r) * n + c0;
        for (int64_t c = 0; c < bc; ++c) d[c] = wr[c] - qr[c];
      } else {
        std::copy(wr, wr + bc, d);
      }
    }
  };

  double total = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += tile) {
    const int64_t bi = std::min(tile, n - i0);
    for (int64_t j0 = i0; j0 < n; j0 += tile) {
      const int64_t bj = std::min(tile, n - j0);
      const double weight = j0 == i0 ? 1.0 : 2.0;  // H_JI = H_IJᵀ contributes the same sum
#pragma omp parallel for schedule(static) if (bi * bj >= kParallelWork)
      for (int64_t r = 0; r < bi; ++r)
        for (int64_t c = 0; c < bj; ++c) ht[r * bj + c] = static_cast<float>(h[(i0 + r) * n + j0 + c]);
      for (int64_t r0 = 0; r0 < rows; r0 += rb_max) {
        const int64_t rb = std::min(rb_max, rows - r0);
        delta_block(di.data(), r0, rb, i0, bi);
        delta_block(dj.data(), r0, rb, j0, bj);
        // p = Δ_RI · H_IJ: [rb, bi] · [bi, bj].
        sgemm(false, false, rb, bj, bi, 1.0f, di.data(), bi, ht.data(), bj, 0.0f, p.data(), bj);
        double s = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : s) if (rb * bj >= kParallelWork)
        for (int64_t r = 0; r < rb; ++r) {
          double sr = 0.0;
          for (int64_t c = 0; c < bj; ++c) sr += static_cast<double>(p[r * bj + c]) * dj[r * bj + c];
          s += sr;
        }
        total += weight * s;
      }
    }
  }
  return total;
}

}  // namespace lmpack
