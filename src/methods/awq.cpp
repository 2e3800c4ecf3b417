// AWQ's scale search and clipping search; see awq.h for the method, its
// source and the deviations from AutoAWQ.
//
// Scales follow AutoAWQ's search: s = max(mean|x|^α, 1e-4) (the clamp is on
// the power, so a dead channel gets a small but non-zero scale), then
// s /= sqrt(max s · min s). α = 0 gives s = 1 exactly, so errors[0] is the
// plain round trip's error bit for bit.
#include "methods/awq.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"

namespace lmpack {
namespace {

constexpr const char* kWhere = "awq";
constexpr double kMinScale = 1e-4;

void check_hessian(const Hessian& hessian, int64_t cols) {
  if (hessian.cols != cols || static_cast<int64_t>(hessian.h.size()) != cols * cols)
    throw Error(kWhere, cat("Hessian is for ", hessian.cols, " columns (", hessian.h.size(), " entries), weights have ",
                            cols, " columns"));
}

// s [cols] for one α (see the file comment).
void compute_scales(float* s, const float* mean_abs_x, int64_t cols, double alpha) {
  std::vector<double> p(static_cast<size_t>(cols));
  double lo = INFINITY, hi = 0.0;
  for (int64_t c = 0; c < cols; ++c) {
    p[c] = std::max(std::pow(static_cast<double>(mean_abs_x[c]), alpha), kMinScale);
    lo = std::min(lo, p[c]);
    hi = std::max(hi, p[c]);
  }
  const double norm = std::sqrt(lo * hi);
  for (int64_t c = 0; c < cols; ++c) s[c] = static_cast<float>(p[c] / norm);
}

}  // namespace

AwqSearchResult awq_search_scales(const std::vector<AwqLinear>& linears, int64_t cols, const float* mean_abs_x,
                                  const Hessian& hessian, const AwqOptions& options) {
  if (linears.empty()) throw Error(kWhere, "no linear layers to search scales for");
  if (cols <= 0) throw Error(kWhere, cat("cols must be > 0, got ", cols));
  if (mean_abs_x == nullptr) throw Error(kWhere, "mean |x| is missing");
  if (options.n_grid < 1) throw Error(kWhere, cat("n_grid must be >= 1, got ", options.n_grid));
  check_hessian(hessian, cols);
  int64_t max_rows = 0;
  for (size_t i = 0; i < linears.size(); ++i) {
    const AwqLinear& l = linears[i];
    if (l.w == nullptr || l.rows <= 0 || !l.round_trip)
      throw Error(kWhere, cat("linear ", i, ": needs weights, rows > 0 (got ", l.rows, ") and a round trip"));
    max_rows = std::max(max_rows, l.rows);
  }
  for (int64_t c = 0; c < cols; ++c)
    if (!(mean_abs_x[c] >= 0.0f) || !std::isfinite(mean_abs_x[c]))
      throw Error(kWhere, cat("mean |x| of column ", c, " must be finite and >= 0, got ", mean_abs_x[c]));

  AwqSearchResult result;
  result.errors.assign(static_cast<size_t>(options.n_grid), 0.0);
  std::vector<float> s(static_cast<size_t>(cols));
  std::vector<float> scaled(static_cast<size_t>(max_rows * cols)), w_hat(scaled.size());
  int best = -1;
  for (int k = 0; k < options.n_grid; ++k) {
    const double alpha = static_cast<double>(k) / options.n_grid;
    compute_scales(s.data(), mean_abs_x, cols, alpha);
    double err = 0.0;
    for (const AwqLinear& l : linears) {
      // Ŵ = Q(W·diag(s))·diag(1/s)
      parallel_for(l.rows, [&](int64_t r) {
        for (int64_t c = 0; c < cols; ++c) scaled[r * cols + c] = l.w[r * cols + c] * s[c];
      });
      l.round_trip(w_hat.data(), scaled.data(), l.rows, cols);
      parallel_for(l.rows, [&](int64_t r) {
        for (int64_t c = 0; c < cols; ++c) w_hat[r * cols + c] /= s[c];
      });
      err += hessian_output_error(l.w, w_hat.data(), l.rows, cols, hessian);
    }
    result.errors[k] = err;
    if (k == 0 && !std::isfinite(err))
      throw Error(kWhere, cat("output error at alpha 0 is ", err, "; are the weights or the Hessian finite?"));
    if (best < 0 || err < result.errors[best]) best = k;  // ties keep the smaller α
  }
  result.alpha = static_cast<double>(best) / options.n_grid;
  result.error = result.errors[best];
  result.error_alpha0 = result.errors[0];
  compute_scales(s.data(), mean_abs_x, cols, result.alpha);
  result.scales = std::move(s);
  return result;
}

double awq_clip(float* w, int64_t rows, int64_t cols, const Hessian& hessian, const IntGridSpec& grid,
                int64_t group_size, const AwqClipOptions& options) {
  if (w == nullptr) throw Error(kWhere, "clip: weights are missing");
  if (rows <= 0 || cols <= 0) throw Error(kWhere, cat("clip: weight shape must be positive, got [", rows, ", ", cols, "]"));
  check_hessian(hessian, cols);
  validate_int_grid(grid);
  if (group_size <= 0 && group_size != -1)
    throw Error(kWhere, cat("clip: group_size must be > 0 or -1 (per-channel), got ", group_size));
  if (options.n_grid < 1) throw Error(kWhere, cat("clip: n_grid must be >= 1, got ", options.n_grid));
  if (!(options.max_shrink >= 0.0f && options.max_shrink < 1.0f))
    throw Error(kWhere, cat("clip: max_shrink must be in [0, 1), got ", options.max_shrink));

  const int64_t gs = group_size == -1 ? cols : std::min(group_size, cols);
  const int64_t n_groups = (cols + gs - 1) / gs;
  // Shrink factors 1 - i/n_grid for i < max_shrink·n_grid; i = 0 (no clip) always.
  const int steps = std::max(1, static_cast<int>(options.max_shrink * static_cast<float>(options.n_grid)));
  const double* h = hessian.h.data();
  std::vector<double> row_error(static_cast<size_t>(rows), 0.0);

  parallel_for(rows, [&](int64_t r) {
    std::vector<float> clamped(static_cast<size_t>(gs)), best_clamped(static_cast<size_t>(gs));
    std::vector<double> delta(static_cast<size_t>(gs));
    float* wr = w + r * cols;
    double total = 0.0;
    for (int64_t g = 0; g < n_groups; ++g) {
      const int64_t g0 = g * gs, n = std::min(gs, cols - g0);
      float lo = 0.0f, hi = 0.0f;  // the range always holds 0, as on the grid
      for (int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, wr[g0 + i]);
        hi = std::max(hi, wr[g0 + i]);
      }
      if (grid.symmetric) {
        hi = std::max(-lo, hi);
        lo = -hi;
      }
      double best_err = INFINITY;
      for (int step = 0; step < steps; ++step) {
        const float shrink = 1.0f - static_cast<float>(step) / static_cast<float>(options.n_grid);
        const float clo = shrink * lo, chi = shrink * hi;
        for (int64_t i = 0; i < n; ++i) clamped[i] = std::clamp(wr[g0 + i], clo, chi);
        const IntGroupParams p = find_params(clamped.data(), n, grid);
        for (int64_t i = 0; i < n; ++i) delta[i] = static_cast<double>(wr[g0 + i]) - round_to_grid(clamped[i], p);
        // δ·H_gg·δᵀ over the group's diagonal block.
        double err = 0.0;
        for (int64_t i = 0; i < n; ++i) {
          if (delta[i] == 0.0) continue;
          const double* hi_row = h + (g0 + i) * cols + g0;
          double t = 0.0;
          for (int64_t j = 0; j < n; ++j) t += hi_row[j] * delta[j];
          err += delta[i] * t;
        }
        if (step == 0 || err < best_err) {
          best_err = err;
          std::copy(clamped.begin(), clamped.begin() + n, best_clamped.begin());
        }
      }
      std::copy(best_clamped.begin(), best_clamped.begin() + n, wr + g0);
      total += best_err;
    }
    row_error[r] = total;
  });
  double sum = 0.0;
  for (double e : row_error) sum += e;
  return sum;
}

}  // namespace lmpack
