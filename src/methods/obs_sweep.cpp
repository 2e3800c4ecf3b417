// The OBS column sweep shared by GPTQ and SparseGPT; see obs_sweep.h.
#include "methods/obs_sweep.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/large_buffer.h"
#include "core/parallel.h"
#include "kernels/matmul.h"
#include "methods/gptq_hessian.h"

namespace lmpack {
namespace {

// OBS pruning score of a weight: w² / U_ii² (the increase of the loss).
float obs_score(float w, float u_ii) { return (w * w) / (u_ii * u_ii); }

// In a sweep over the lazy batch [b0, b1) that has reached column i: the
// current values of one row's columns [i, end) into out [end - i], i.e. wr
// with the batch's scaled errors er [b1 - b0] of the columns [b0, i) also
// applied to the columns >= b1 (their lazy update is still pending).
// u: [cols, cols] upper factor of H⁻¹.
void current_values(float* out, const float* wr, const float* er, const float* u, int64_t cols, int64_t b0, int64_t i,
                    int64_t b1, int64_t end) {
  for (int64_t j = i; j < end; ++j) {
    float v = wr[j];
    if (j >= b1)
      for (int64_t k = b0; k < i; ++k) v -= er[k - b0] * u[k * cols + j];
    out[j - i] = v;
  }
}

// W[:, b1:] -= Err · U[b0:b1, b1:] for w [rows, cols], err [rows, ld_err]
// (the batch's scaled errors in its first b1 - b0 columns), u [cols, cols].
void lazy_update(float* w, const float* err, int64_t ld_err, const float* u, int64_t rows, int64_t cols, int64_t b0,
                 int64_t b1) {
  if (b1 >= cols) return;
  sgemm(false, false, rows, cols - b1, b1 - b0, -1.0f, err, ld_err, u + b0 * cols + b1, cols, 1.0f, w + b1, cols);
}

// Marks the N:M mask of the group [j, end) of one row (mr [cols]) by the
// OBS scores of its current weights v (v[k - v0] for column k); score: scratch.
void select_n_m_group(uint8_t* mr, const float* v, int64_t v0, int64_t j, int64_t end, const float* u, int64_t cols,
                      const SparsityPattern& pattern, float* score) {
  for (int64_t k = j; k < end; ++k) score[k - j] = obs_score(v[k - v0], u[k * cols + k]);
  mark_smallest(mr + j, score, end - j, pruned_before(pattern, end) - pruned_before(pattern, j));
}

// The weights pruning alone would leave in the columns [i, end) of one row,
// so that a grid can be fitted to them before the sweep rounds them: v
// [end - i] holds their current values; each pruned position (mr [cols])
// becomes 0 and its OBS error goes onto the later columns of the span. N:M
// groups that lie inside the span and start at or after *selected_until are
// chosen here as the sweep would (and *selected_until advanced); the sweep
// then keeps them.
void prune_ahead(float* v, uint8_t* mr, int64_t i, int64_t end, const float* u, int64_t cols,
                 const SparsityPattern& pattern, int64_t* selected_until, float* score) {
  for (int64_t j = i; j < end; ++j) {
    if (pattern.is_n_m() && j % pattern.m == 0 && j >= *selected_until && j + pattern.m <= end) {
      select_n_m_group(mr, v, i, j, j + pattern.m, u, cols, pattern, score);
      *selected_until = j + pattern.m;
    }
    if (mr[j] == 0) continue;
    const float e = v[j - i] / u[j * cols + j];
    v[j - i] = 0.0f;
    for (int64_t k = j + 1; k < end; ++k) v[k - i] -= e * u[j * cols + k];
  }
}

}  // namespace

ObsSweepResult obs_sweep(const float* w, int64_t rows, int64_t cols, const Hessian& hessian, GridSweep* grid,
                         const ObsSweepOptions& o) {
  if (o.prune != nullptr) validate_sparsity_pattern(*o.prune);
  check_gptq_inputs(rows, cols, hessian, o.block_size, o.damp, o.where);
  LMPACK_CHECK(!(o.act_order && o.prune != nullptr), "act order with pruning");
  const SparsityPattern* prune = o.prune;
  const bool nm = prune != nullptr && prune->is_n_m();

  std::vector<float> w0 = large_copy(w, static_cast<size_t>(rows * cols));  // [rows, cols]
  const std::vector<double> diag = gptq_clear_dead_columns(w0.data(), rows, cols, hessian);
  if (grid != nullptr && o.act_order) grid->fit_all(w0.data());  // static groups, from the unpermuted weights

  // Column order: descending diag(H) with act_order (stable, so ties keep
  // order). wp [rows, cols] is W in that order.
  std::vector<int64_t> perm(static_cast<size_t>(cols));
  std::iota(perm.begin(), perm.end(), 0);
  std::vector<float> wp;
  if (o.act_order) {
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return diag[a] > diag[b]; });
    wp = large_vector<float>(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < cols; ++i) wp[r * cols + i] = w0[r * cols + perm[i]];
    std::vector<float>().swap(w0);
  } else {
    wp = std::move(w0);
  }
  // U = upper Cholesky factor of the dampened H⁻¹ in that order, from an
  // earlier sweep over the same H when there was one (q, k and v share it),
  // else from hp, H in that order (one copy in double: ~1 GB at 11008 columns).
  const GptqFactorKey key = gptq_factor_key(hessian, o.damp, o.act_order);
  std::shared_ptr<const std::vector<float>> u_kept = gptq_kept_factor(hessian, key);
  if (u_kept == nullptr) {
    std::vector<double> hp;
    if (o.act_order) {
      hp = large_vector<double>(static_cast<size_t>(cols * cols));
      const std::vector<double>& h = hessian.h;
      parallel_for(cols, [&](int64_t i) {
        for (int64_t j = 0; j < cols; ++j) hp[i * cols + j] = h[perm[i] * cols + perm[j]];
        hp[i * cols + i] = diag[perm[i]];
      });
    } else {
      hp = large_copy(hessian.h);
      for (int64_t i = 0; i < cols; ++i) hp[i * cols + i] = diag[i];
    }
    u_kept = gptq_keep_factor(hessian, key, gptq_inverse_factor(std::move(hp), cols, o.damp));
  }
  const std::vector<float>& u = *u_kept;  // [cols, cols]

  ObsSweepResult res;
  if (prune != nullptr) res.mask = SparsityMask{rows, cols, std::vector<uint8_t>(static_cast<size_t>(rows * cols), 0)};
  int64_t align = grid != nullptr ? grid->alignment() : 1;
  if (nm) align = std::lcm(align, static_cast<int64_t>(prune->m));
  const int64_t bs = std::min((o.block_size + align - 1) / align * align, cols);
  const int64_t unit = grid != nullptr ? grid->unit() : 0;
  std::vector<float> err(static_cast<size_t>(rows * bs));          // [rows, bs]: scaled errors of the batch
  std::vector<int64_t> nm_selected(static_cast<size_t>(rows), 0);  // [rows]: N:M masks chosen below this column

  for (int64_t b0 = 0; b0 < cols; b0 += bs) {
    const int64_t b1 = std::min(b0 + bs, cols);
    parallel_for(rows, [&](int64_t r) {
      float* wr = wp.data() + r * cols;
      float* er = err.data() + r * bs;
      uint8_t* mr = prune != nullptr ? res.mask.pruned.data() + r * cols : nullptr;
      std::vector<float> score(prune != nullptr ? static_cast<size_t>(bs) : 0);  // [bs]
      std::vector<float> cur(static_cast<size_t>(unit));                         // a unit's current weights
      std::unique_ptr<GridRowSweep> row = grid != nullptr ? grid->row(r) : nullptr;
      if (prune != nullptr && !nm) {
        // Adaptive mask of this batch: the row's share, lowest OBS scores.
        for (int64_t j = b0; j < b1; ++j) score[j - b0] = obs_score(wr[j], u[j * cols + j]);
        mark_smallest(mr + b0, score.data(), b1 - b0, pruned_before(*prune, b1) - pruned_before(*prune, b0));
      }
      int64_t& selected_until = nm_selected[r];
      for (int64_t i = b0; i < b1; ++i) {
        const int64_t c = perm[i];
        if (row != nullptr && !o.act_order && i % unit == 0) {
          // A unit starts here: its grid is fitted to its weights as they
          // stand (every update so far, pending ones included), after the
          // pruning they will get.
          const int64_t end = std::min(i + unit, cols);
          current_values(cur.data(), wr, er, u.data(), cols, b0, i, b1, end);
          if (prune != nullptr) prune_ahead(cur.data(), mr, i, end, u.data(), cols, *prune, &selected_until, score.data());
          row->fit(i, cur.data(), end - i);
        }
        // Adaptive N:M mask of the group of m columns starting here.
        if (nm && i % prune->m == 0 && i >= selected_until) {
          selected_until = std::min<int64_t>(i + prune->m, cols);
          select_n_m_group(mr, wr, 0, i, selected_until, u.data(), cols, *prune, score.data());
        }
        const bool zero = (mr != nullptr && mr[i] != 0) || (o.keep_zeros && w[r * cols + c] == 0.0f);
        const float target = zero ? 0.0f : wr[i];
        float wq = target;
        if (row != nullptr) {
          wq = row->round(c, target);
          row->rounded(c);
        }
        const float e = (wr[i] - wq) / u[i * cols + i];
        er[i - b0] = e;
        wr[i] = wq;
        const float* ui = u.data() + i * cols;
        for (int64_t j = i + 1; j < b1; ++j) wr[j] -= e * ui[j];
      }
    });
    // Lazy update of the columns past the batch: W[:, b1:] -= Err · U[b0:b1, b1:].
    lazy_update(wp.data(), err.data(), bs, u.data(), rows, cols, b0, b1);
  }
  if (grid == nullptr) res.weights = std::move(wp);
  return res;
}

}  // namespace lmpack
