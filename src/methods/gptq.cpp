// GPTQ and the round-to-nearest baseline; see gptq.h for the method, its
// source and the deviations from the reference code.
#include "methods/gptq.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/parallel.h"
#include "methods/gptq_hessian.h"
#include "methods/gptq_sweep.h"

namespace lmpack {
namespace {

constexpr const char* kWhere = "gptq";

void check_shape(int64_t rows, int64_t cols, const char* where) {
  if (rows <= 0 || cols <= 0) throw Error(where, cat("weight shape must be positive, got [", rows, ", ", cols, "]"));
}

}  // namespace

IntQuantizedMatrix gptq_quantize(const float* w, int64_t rows, int64_t cols, const Hessian& hessian,
                                 const GptqOptions& options) {
  check_gptq_inputs(rows, cols, hessian, options.block_size, options.damp, kWhere);
  validate_int_grid(options.grid);
  const int64_t gs = int_group_width(options.group_size, cols, kWhere);
  IntQuantizedMatrix out = make_int_quantized(rows, cols, gs);
  const int64_t n_groups = out.n_groups;

  std::vector<float> w0(w, w + rows * cols);  // [rows, cols]
  const std::vector<double> diag = gptq_clear_dead_columns(w0.data(), rows, cols, hessian);
  const std::vector<double>& h = hessian.h;  // [cols, cols]

  // Static groups (act_order): parameters from the unpermuted weights.
  std::vector<IntGroupParams> params(static_cast<size_t>(rows * n_groups));  // [rows, n_groups]
  if (options.act_order) {
    parallel_for(rows, [&](int64_t r) {
      for (int64_t g = 0; g < n_groups; ++g) {
        const int64_t c0 = g * gs, len = std::min(gs, cols - c0);
        params[r * n_groups + g] =
            find_params(w0.data() + r * cols + c0, len, options.grid, importance_at(options.importance, c0));
      }
    });
  }

  // Column order: descending diag(H) with act_order (stable, so ties keep order).
  // wp [rows, cols] and hp [cols, cols] are W and H in that order (one copy of
  // H in double: at 11008 columns it is ~1 GB).
  std::vector<int64_t> perm(static_cast<size_t>(cols));
  std::iota(perm.begin(), perm.end(), 0);
  if (options.act_order)
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return diag[a] > diag[b]; });
  std::vector<float> wp(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < cols; ++i) wp[r * cols + i] = w0[r * cols + perm[i]];
  std::vector<float>().swap(w0);
  std::vector<double> hp(static_cast<size_t>(cols * cols));
  parallel_for(cols, [&](int64_t i) {
    for (int64_t j = 0; j < cols; ++j) hp[i * cols + j] = h[perm[i] * cols + perm[j]];
    hp[i * cols + i] = diag[perm[i]];
  });

  // Dampen, then U = upper Cholesky factor of H⁻¹ (H⁻¹ = Uᵀ·U).
  const std::vector<float> u = gptq_inverse_factor(std::move(hp), cols, options.damp);

  // Column sweep, block by block (Algorithm 1 of the paper).
  const int64_t bs = std::min(options.block_size, cols);
  std::vector<float> err(static_cast<size_t>(rows * bs));
  for (int64_t b0 = 0; b0 < cols; b0 += bs) {
    const int64_t b1 = std::min(b0 + bs, cols);
    parallel_for(rows, [&](int64_t r) {
      float* wr = wp.data() + r * cols;
      float* er = err.data() + r * bs;
      std::vector<float> group;
      for (int64_t i = b0; i < b1; ++i) {
        IntGroupParams p;
        if (options.act_order) {
          p = params[r * n_groups + perm[i] / gs];
        } else {
          const int64_t g = i / gs;
          if (i % gs == 0) {
            // The group's weights with every update so far, including the
            // ones still pending for columns past this block.
            const int64_t end = std::min(i + gs, cols);
            group.resize(static_cast<size_t>(end - i));
            sweep_current_values(group.data(), wr, er, u.data(), cols, b0, i, b1, end);
            params[r * n_groups + g] =
                find_params(group.data(), end - i, options.grid, importance_at(options.importance, i));
          }
          p = params[r * n_groups + g];
        }
        const bool keep_zero = options.keep_zeros && w[r * cols + perm[i]] == 0.0f;
        const int32_t q = quantize_value(keep_zero ? 0.0f : wr[i], p);
        const float wq = dequantize(q, p);
        out.codes[r * cols + perm[i]] = static_cast<uint8_t>(q);
        out.dequantized[r * cols + perm[i]] = wq;
        const float e = (wr[i] - wq) / u[i * cols + i];
        er[i - b0] = e;
        const float* ui = u.data() + i * cols;
        for (int64_t j = i + 1; j < b1; ++j) wr[j] -= e * ui[j];
      }
    });
    // Lazy update of the columns past the block: W[:, b1:] -= Err · U[b0:b1, b1:].
    sweep_lazy_update(wp.data(), err.data(), bs, u.data(), rows, cols, b0, b1);
  }

  for (int64_t k = 0; k < rows * n_groups; ++k) {
    out.scales[k] = params[k].scale;
    out.zeros[k] = params[k].zero;
  }
  return out;
}

IntQuantizedMatrix rtn_quantize(const float* w, int64_t rows, int64_t cols, const IntGridSpec& grid,
                                int64_t group_size, const float* importance) {
  constexpr const char* where = "rtn";
  check_shape(rows, cols, where);
  validate_int_grid(grid);
  const int64_t gs = int_group_width(group_size, cols, where);
  IntQuantizedMatrix out = make_int_quantized(rows, cols, gs);
  parallel_for(rows, [&](int64_t r) {
    for (int64_t g = 0; g < out.n_groups; ++g) {
      const int64_t c0 = g * gs, len = std::min(gs, cols - c0);
      const IntGroupParams p = find_params(w + r * cols + c0, len, grid, importance_at(importance, c0));
      out.scales[r * out.n_groups + g] = p.scale;
      out.zeros[r * out.n_groups + g] = p.zero;
      for (int64_t c = c0; c < c0 + len; ++c) {
        const int32_t q = quantize_value(w[r * cols + c], p);
        out.codes[r * cols + c] = static_cast<uint8_t>(q);
        out.dequantized[r * cols + c] = dequantize(q, p);
      }
    }
  });
  return out;
}

}  // namespace lmpack
