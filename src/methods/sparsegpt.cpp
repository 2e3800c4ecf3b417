// SparseGPT pruning with optional joint quantization; see sparsegpt.h for the
// paper (Frantar & Alistarh, 2023, arXiv:2301.00774), the objective and the
// deviations from the reference code. The sweep is methods/obs_sweep.cpp.
#include "methods/sparsegpt.h"

#include <memory>
#include <utility>

#include "core/error.h"
#include "grids/format_grid.h"
#include "grids/int_group_grid.h"
#include "methods/gptq_hessian.h"
#include "methods/obs_sweep.h"

namespace lmpack {
namespace {

constexpr const char* kWhere = "sparsegpt";

}  // namespace

SparseGptResult sparsegpt_prune(const float* w, int64_t rows, int64_t cols, const Hessian& hessian,
                                const SparsityPattern& pattern, const SparseGptOptions& options) {
  validate_sparsity_pattern(pattern);
  check_gptq_inputs(rows, cols, hessian, options.block_size, options.damp, kWhere);
  if (options.int_grid && options.format)
    throw Error(kWhere, "quantize onto an integer grid or onto a format, not both");
  std::unique_ptr<Grid> grid;
  if (options.int_grid) grid = std::make_unique<IntGroupGrid>(*options.int_grid, options.group_size);
  if (options.format) grid = std::make_unique<FormatGrid>(*options.format);
  SparseGptOptions rest = options;
  rest.int_grid.reset();
  rest.format.reset();
  return sparsegpt_prune_onto(grid.get(), w, rows, cols, hessian, pattern, rest);
}

SparseGptResult sparsegpt_prune_onto(const Grid* grid, const float* w, int64_t rows, int64_t cols,
                                     const Hessian& hessian, const SparsityPattern& pattern,
                                     const SparseGptOptions& options) {
  LMPACK_CHECK(!options.int_grid && !options.format, "sparsegpt_prune_onto takes its grid as an argument");
  validate_sparsity_pattern(pattern);
  check_gptq_inputs(rows, cols, hessian, options.block_size, options.damp, kWhere);
  std::unique_ptr<GridSweep> sweep = grid ? grid->sweep(rows, cols, options.importance, kWhere) : nullptr;

  ObsSweepOptions o;
  o.damp = options.damp;
  o.block_size = options.block_size;
  o.prune = &pattern;
  o.where = kWhere;
  ObsSweepResult swept = obs_sweep(w, rows, cols, hessian, sweep.get(), o);
  SparseGptResult res;
  res.mask = std::move(swept.mask);
  if (sweep) {
    res.quantized = sweep->finish();
    res.weights = res.quantized->dequantized;
  } else {
    res.weights = std::move(swept.weights);
  }
  // Count on the final values (for a format: the decoded bytes).
  for (int64_t k = 0; k < rows * cols; ++k)
    if (res.mask.pruned[k] != 0 && res.weights[k] != 0.0f) ++res.pruned_nonzero;
  return res;
}

}  // namespace lmpack
