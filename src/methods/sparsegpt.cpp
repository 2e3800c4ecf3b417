// SparseGPT pruning with optional joint quantization; see sparsegpt.h for the
// paper (Frantar & Alistarh, 2023, arXiv:2301.00774), the objective and the
// deviations from the reference code.
#include "methods/sparsegpt.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/parallel.h"
#include "methods/gptq_hessian.h"
#include "methods/gptq_sweep.h"

namespace lmpack {
namespace {

constexpr const char* kWhere = "sparsegpt";

// OBS pruning score of a weight: w² / U_ii² (the increase of the loss).
float obs_score(float w, float u_ii) { return (w * w) / (u_ii * u_ii); }

// Marks the N:M mask of the group [j, end) of one row (mr [cols]) by the
// OBS scores of its current weights v (v[k - v0] for column k); score: scratch.
void select_n_m_group(uint8_t* mr, const float* v, int64_t v0, int64_t j, int64_t end, const float* u, int64_t cols,
                      const SparsityPattern& pattern, float* score) {
  for (int64_t k = j; k < end; ++k) score[k - j] = obs_score(v[k - v0], u[k * cols + k]);
  mark_smallest(mr + j, score, end - j, pruned_before(pattern, end) - pruned_before(pattern, j));
}

// The weights pruning alone would leave in the columns [i, end) of one row,
// so that a quantization grid can be fitted to them before the sweep rounds
// them: v [end - i] holds their current values; each pruned position (mr
// [cols]) becomes 0 and its OBS error goes onto the later columns of the
// span. N:M groups that lie inside the span and start at or after
// *selected_until are chosen here as the sweep would (and *selected_until
// advanced); the sweep then keeps them.
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

SparseGptResult sparsegpt_prune(const float* w, int64_t rows, int64_t cols, const Hessian& hessian,
                                const SparsityPattern& pattern, const SparseGptOptions& options) {
  validate_sparsity_pattern(pattern);
  check_gptq_inputs(rows, cols, hessian, options.block_size, options.damp, kWhere);
  if (options.int_grid && options.format)
    throw Error(kWhere, "quantize onto an integer grid or onto a format, not both");
  const bool nm = pattern.is_n_m();

  // Quantizer: integer groups of gs columns, or format blocks of `block` columns.
  int64_t gs = 0, block = 0;
  const FormatOps* ops = nullptr;
  SparseGptResult res;
  if (options.int_grid) {
    validate_int_grid(*options.int_grid);
    gs = int_group_width(options.group_size, cols, kWhere);
    res.int_quantized = make_int_quantized(rows, cols, gs);
  }
  if (options.format) {
    ops = &block_grid_ops(*options.format, cols);
    block = dtype_traits(*options.format).block_elements;
    res.format_quantized = make_format_quantized(*options.format, rows, cols);
  }
  const size_t block_bytes = ops != nullptr ? dtype_bytes(*options.format, block) : 0;
  const size_t row_bytes = ops != nullptr ? dtype_bytes(*options.format, cols) : 0;

  std::vector<float> wp(w, w + rows * cols);  // [rows, cols], updated in place; ends as Ŵ
  const std::vector<double> diag = gptq_clear_dead_columns(wp.data(), rows, cols, hessian);
  std::vector<double> h = hessian.h;  // [cols, cols]
  for (int64_t i = 0; i < cols; ++i) h[i * cols + i] = diag[i];
  const std::vector<float> u = gptq_inverse_factor(std::move(h), cols, options.damp);  // [cols, cols]

  res.mask = SparsityMask{rows, cols, std::vector<uint8_t>(static_cast<size_t>(rows * cols), 0)};
  // Batch width: a multiple of m and of the format block (see the deviations).
  int64_t align = 1;
  if (nm) align = std::lcm(align, static_cast<int64_t>(pattern.m));
  if (block > 0) align = std::lcm(align, block);
  const int64_t bs = std::min((options.block_size + align - 1) / align * align, cols);

  std::vector<IntGroupParams> params;  // [rows, n_groups] with an integer grid
  if (res.int_quantized) params.resize(static_cast<size_t>(rows * res.int_quantized->n_groups));
  std::vector<float> err(static_cast<size_t>(rows * bs));  // [rows, bs]: scaled errors of the batch
  std::vector<int64_t> nm_selected(static_cast<size_t>(rows), 0);  // [rows]: N:M masks chosen below this column

  for (int64_t b0 = 0; b0 < cols; b0 += bs) {
    const int64_t b1 = std::min(b0 + bs, cols);
    parallel_for(rows, [&](int64_t r) {
      float* wr = wp.data() + r * cols;
      float* er = err.data() + r * bs;
      uint8_t* mr = res.mask.pruned.data() + r * cols;
      std::vector<float> score(static_cast<size_t>(bs));  // [bs]
      std::vector<float> cur(static_cast<size_t>(std::max(gs, block)));  // a group's current weights
      std::vector<float> scale(block), offset(block);  // [block]: the grid of the current format block
      std::vector<int32_t> codes(block);               // [block]
      if (!nm) {
        // Adaptive mask of this batch: the row's share, lowest OBS scores.
        for (int64_t j = b0; j < b1; ++j) score[j - b0] = obs_score(wr[j], u[j * cols + j]);
        mark_smallest(mr + b0, score.data(), b1 - b0, pruned_before(pattern, b1) - pruned_before(pattern, b0));
      }
      uint8_t* blk = nullptr;
      int64_t& selected_until = nm_selected[r];
      for (int64_t i = b0; i < b1; ++i) {
        // A quantization group (or format block) starting here: its grid is
        // fitted to the weights pruning alone would leave in it.
        if (res.int_quantized && i % gs == 0) {
          const int64_t end = std::min(i + gs, cols);
          sweep_current_values(cur.data(), wr, er, u.data(), cols, b0, i, b1, end);
          prune_ahead(cur.data(), mr, i, end, u.data(), cols, pattern, &selected_until, score.data());
          params[r * res.int_quantized->n_groups + i / gs] =
              find_params(cur.data(), end - i, *options.int_grid, importance_at(options.importance, i));
        } else if (ops != nullptr && i % block == 0) {
          // No lazy update is pending for the block (bs is a multiple of it).
          std::copy(wr + i, wr + i + block, cur.data());
          prune_ahead(cur.data(), mr, i, i + block, u.data(), cols, pattern, &selected_until, score.data());
          blk = res.format_quantized->data.data() + r * row_bytes + (i / block) * block_bytes;
          ops->quantize_row(blk, cur.data(), block, importance_at(options.importance, i));
          ops->row_grid(scale.data(), offset.data(), blk, block);
        }
        // Adaptive N:M mask of the group of m columns starting here.
        if (nm && i % pattern.m == 0 && i >= selected_until) {
          selected_until = std::min<int64_t>(i + pattern.m, cols);
          select_n_m_group(mr, wr, 0, i, selected_until, u.data(), cols, pattern, score.data());
        }
        const bool pruned = mr[i] != 0;
        const float target = pruned ? 0.0f : wr[i];
        float wq = target;
        if (res.int_quantized) {
          IntQuantizedMatrix& q = *res.int_quantized;
          const IntGroupParams& p = params[r * q.n_groups + i / gs];
          const int32_t code = quantize_value(target, p);
          wq = dequantize(code, p);
          q.codes[r * cols + i] = static_cast<uint8_t>(code);
          q.dequantized[r * cols + i] = wq;
        } else if (ops != nullptr) {
          const int64_t k = i % block;
          codes[k] = block_grid_code(target, scale[k], offset[k], *ops);
          wq = scale[k] * static_cast<float>(codes[k]) + offset[k];
          if (k == block - 1) ops->set_row_codes(blk, codes.data(), block);
        }
        const float e = (wr[i] - wq) / u[i * cols + i];
        er[i - b0] = e;
        wr[i] = wq;
        const float* ui = u.data() + i * cols;
        for (int64_t j = i + 1; j < b1; ++j) wr[j] -= e * ui[j];
      }
    });
    sweep_lazy_update(wp.data(), err.data(), bs, u.data(), rows, cols, b0, b1);
  }

  if (res.int_quantized) {
    IntQuantizedMatrix& q = *res.int_quantized;
    for (int64_t k = 0; k < rows * q.n_groups; ++k) {
      q.scales[k] = params[k].scale;
      q.zeros[k] = params[k].zero;
    }
    res.weights = q.dequantized;
  } else if (ops != nullptr) {
    decode_format_rows(*res.format_quantized, *ops);
    res.weights = res.format_quantized->dequantized;
  } else {
    res.weights = std::move(wp);
  }
  // Count on the final values (for a format: the decoded bytes).
  for (int64_t k = 0; k < rows * cols; ++k)
    if (res.mask.pruned[k] != 0 && res.weights[k] != 0.0f) ++res.pruned_nonzero;
  return res;
}

}  // namespace lmpack
