// GPTQ and the round-to-nearest baseline; see gptq.h for the method, its
// source and the deviations from the reference code. The sweep itself is
// methods/obs_sweep.cpp.
#include "methods/gptq.h"

#include "grids/int_group_grid.h"
#include "methods/gptq_hessian.h"
#include "methods/obs_sweep.h"

namespace lmpack {
namespace {

constexpr const char* kWhere = "gptq";

}  // namespace

QuantizedMatrix gptq_quantize_onto(const Grid& grid, const float* w, int64_t rows, int64_t cols,
                                   const Hessian& hessian, const float* importance, const GptqSweepOptions& options) {
  check_gptq_inputs(rows, cols, hessian, options.block_size, options.damp, kWhere);
  const std::unique_ptr<GridSweep> sweep = grid.sweep(rows, cols, importance, kWhere);
  ObsSweepOptions o;
  o.damp = options.damp;
  o.block_size = options.block_size;
  o.act_order = options.act_order;
  o.keep_zeros = options.keep_zeros;
  o.where = kWhere;
  obs_sweep(w, rows, cols, hessian, sweep.get(), o);
  return sweep->finish();
}

QuantizedMatrix gptq_quantize(const float* w, int64_t rows, int64_t cols, const Hessian& hessian,
                              const GptqOptions& options) {
  check_gptq_inputs(rows, cols, hessian, options.block_size, options.damp, kWhere);
  const IntGroupGrid grid(options.grid, options.group_size);
  return gptq_quantize_onto(grid, w, rows, cols, hessian, options.importance,
                            {options.damp, options.block_size, options.act_order, options.keep_zeros});
}

QuantizedMatrix rtn_quantize(const float* w, int64_t rows, int64_t cols, const IntGridSpec& grid, int64_t group_size,
                             const float* importance) {
  return IntGroupGrid(grid, group_size).round(w, rows, cols, importance);
}

}  // namespace lmpack
