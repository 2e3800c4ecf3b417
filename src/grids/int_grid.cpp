// Scale / zero-point search for the integer grid; see int_grid.h.
#include "grids/int_grid.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lmpack {
namespace {

// Parameters for the range [xmin, xmax] (xmin <= 0 <= xmax, not both zero).
IntGroupParams params_for_range(float xmin, float xmax, int32_t maxq, bool symmetric, int32_t min_zero) {
  IntGroupParams p;
  p.maxq = maxq;
  p.scale = (xmax - xmin) / static_cast<float>(maxq);
  if (symmetric) {
    p.zero = (maxq + 1) / 2;
  } else {
    const float z = std::nearbyint(-xmin / p.scale);
    p.zero = static_cast<int32_t>(std::clamp(z, 0.0f, static_cast<float>(maxq)));
    if (p.zero < min_zero) {
      // Keep the top of the range: xmax = (maxq - min_zero) · scale.
      p.zero = min_zero;
      if (xmax > 0.0f) p.scale = xmax / static_cast<float>(maxq - min_zero);
    }
  }
  return p;
}

}  // namespace

void validate_int_grid(const IntGridSpec& spec) {
  if (spec.bits != 2 && spec.bits != 3 && spec.bits != 4 && spec.bits != 8)
    throw Error("int grid", cat("bits must be 2, 3, 4 or 8, got ", spec.bits));
  if (spec.min_zero != 0 && spec.min_zero != 1)
    throw Error("int grid", cat("min_zero must be 0 or 1, got ", spec.min_zero));
  if (spec.mse_clip) {
    if (spec.grid_points <= 0) throw Error("int grid", cat("grid_points must be > 0, got ", spec.grid_points));
    if (!(spec.max_shrink > 0.0f && spec.max_shrink < 1.0f))
      throw Error("int grid", cat("max_shrink must be in (0, 1), got ", spec.max_shrink));
    if (!(spec.norm > 0.0f)) throw Error("int grid", cat("norm must be > 0, got ", spec.norm));
  }
}

IntGroupParams find_params(const float* w, int64_t n, const IntGridSpec& spec, const float* importance) {
  LMPACK_CHECK(n > 0);
  const int32_t maxq = (1 << spec.bits) - 1;
  float xmin = 0.0f, xmax = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    xmin = std::min(xmin, w[i]);
    xmax = std::max(xmax, w[i]);
  }
  if (spec.symmetric) {
    xmax = std::max(-xmin, xmax);
    xmin = -xmax;
  }
  if (xmin == 0.0f && xmax == 0.0f) {
    xmin = -1.0f;
    xmax = 1.0f;
  }
  IntGroupParams best = params_for_range(xmin, xmax, maxq, spec.symmetric, spec.min_zero);
  if (importance != nullptr) {
    // Weighted squared error; i = 0 is the plain min-max range.
    double best_err = INFINITY;
    const int steps = std::max(1, static_cast<int>(spec.max_shrink * static_cast<float>(spec.grid_points)));
    for (int i = 0; i < steps; ++i) {
      const float shrink = 1.0f - static_cast<float>(i) / static_cast<float>(spec.grid_points);
      const IntGroupParams p = params_for_range(shrink * xmin, shrink * xmax, maxq, spec.symmetric, spec.min_zero);
      double err = 0.0;
      for (int64_t k = 0; k < n; ++k) {
        const double d = round_to_grid(w[k], p) - w[k];
        err += importance[k] * d * d;
      }
      if (err < best_err) {
        best_err = err;
        best = p;
      }
    }
    return best;
  }
  if (!spec.mse_clip) return best;

  // Shrink the range step by step; the symmetric zero stays put, the
  // asymmetric one is re-derived from the shrunk minimum.
  float best_err = INFINITY;
  const int steps = static_cast<int>(spec.max_shrink * static_cast<float>(spec.grid_points));
  for (int i = 0; i < steps; ++i) {
    const float shrink = 1.0f - static_cast<float>(i) / static_cast<float>(spec.grid_points);
    const IntGroupParams p = params_for_range(shrink * xmin, shrink * xmax, maxq, spec.symmetric, spec.min_zero);
    float err = 0.0f;
    for (int64_t k = 0; k < n; ++k) err += std::pow(std::fabs(round_to_grid(w[k], p) - w[k]), spec.norm);
    if (err < best_err) {
      best_err = err;
      best = p;
    }
  }
  return best;
}

}  // namespace lmpack
