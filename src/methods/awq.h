// AWQ: Lin, Tang, Tang, Yang, Dang, Gan, Han (2023), "AWQ: Activation-aware
// Weight Quantization for LLM Compression and Acceleration", arXiv:2306.00978.
// For the linear layers that share one input X [N, cols] (q/k/v after the
// attention norm, gate/up after the FFN norm, o after v, down after up), it
// scales input channel c by s_c before quantizing and divides the input by s_c
// (folded into the preceding norm or linear layer, pipeline's job):
//     s = mean|x|^α / sqrt(max(mean|x|^α) · min(mean|x|^α)),
//     α* = argmin_α Σ_layers ||W·X - Q(W·diag(s))·diag(1/s)·X||²_F,
// α searched on the grid {0, 1/n_grid, ..., (n_grid-1)/n_grid}. The error is
// evaluated exactly from the Hessian of the inputs (stats/hessian.h):
//     ||Δ·X||²_F = N/2 · tr(Δ·H·Δᵀ),  Δ = W - Q(W·diag(s))·diag(1/s),
// so the search never materializes X (stats/hessian.h: hessian_output_error). α = 0 (s = 1) is always on the grid, so
// the chosen error is never worse than plain quantization.
// Optional clipping search (AWQ's auto_clip) for integer group grids: per row
// and group, the range max|w| is shrunk by factors 1 - i/n_clip_grid for
// i < max_shrink·n_clip_grid, keeping the one with the least output error
// δ_g·H_gg·δ_gᵀ (H_gg: the group's diagonal block of H).
// Deviations from AutoAWQ: the error is computed from H instead of a forward
// pass over a token sample (exact for the quadratic objective, and cheaper
// when cols < N); the clipping error uses the same H blocks.
#pragma once

#include <cstdint>
#include <vector>

#include "grids/grid.h"
#include "grids/int_grid.h"
#include "stats/hessian.h"

namespace lmpack {

struct AwqLinear {
  const float* w = nullptr;  // [rows, cols] row-major {out, in}
  int64_t rows = 0;
  MatrixRoundTrip round_trip;  // the grid this layer will be quantized on
};

struct AwqOptions {
  int n_grid = 20;  // α ∈ {0, 1/n_grid, ..., (n_grid-1)/n_grid}
};

struct AwqSearchResult {
  std::vector<float> scales;   // [cols] s for the best α (all 1 when α = 0)
  double alpha = 0.0;          // best α
  double error = 0.0;          // Σ tr(Δ·H·Δᵀ) at the best α
  double error_alpha0 = 0.0;   // the same at α = 0
  std::vector<double> errors;  // [n_grid] per α on the grid
};

// mean_abs_x: [cols] mean |x_c| over the calibration rows; hessian.cols == cols.
// Throws Error("awq", ...) on empty input or mismatched sizes.
AwqSearchResult awq_search_scales(const std::vector<AwqLinear>& linears, int64_t cols, const float* mean_abs_x,
                                  const Hessian& hessian, const AwqOptions& options);

struct AwqClipOptions {
  int n_grid = 20;
  float max_shrink = 0.5f;
};

// Clipping search for w [rows, cols] on an integer group grid: clamps every
// (row, group) to ±(best shrink)·max|w| in place (asymmetric grids: the
// group's [min, max] scaled by the shrink). Returns Σ tr(Δ·H·Δᵀ) over the
// diagonal group blocks after clipping.
double awq_clip(float* w, int64_t rows, int64_t cols, const Hessian& hessian, const IntGridSpec& grid,
                int64_t group_size, const AwqClipOptions& options);

}  // namespace lmpack
