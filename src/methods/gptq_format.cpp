// GPTQ onto the GGUF block grids, and the format's own encoder as its
// round-to-nearest baseline; see gptq_format.h for the method and gptq.h for
// the paper (Frantar et al., 2022, arXiv:2210.17323). Objective, as GPTQ's:
//     argmin_Ŵ ||W·X - Ŵ·X||²_F,   each row of Ŵ decodable from the format.
//
// Deviations from the integer-group sweep (grids/format_grid.h,
// methods/obs_sweep.h):
//  - No act_order: a format block holds consecutive columns, so the sweep
//    must reach them in order.
//  - The lazy-batch width is rounded up to a multiple of the format block, so
//    a block never straddles two batches: when the sweep reaches a block's
//    first column, all earlier errors have already been pushed onto the
//    block's columns and no lazy update is pending for them.
//  - The block's scales come from the format's encoder (quantize_row) run on
//    that block alone; the legacy formats' importance weights use the mean
//    square of the row (quantize_row_q4_0 etc.), here that of the block.
//  - Codes are round((w - offset) / scale) clamped to the code range; where a
//    sub-block's scale is 0 every code decodes to the same value and the
//    code nearest 0 is kept.
#include "methods/gptq_format.h"

#include "core/error.h"
#include "grids/format_grid.h"
#include "methods/gptq.h"
#include "methods/gptq_hessian.h"

namespace lmpack {

QuantizedMatrix gptq_quantize_format(const float* w, int64_t rows, int64_t cols, const Hessian& hessian, DType type,
                                     const float* importance, const GptqFormatOptions& options) {
  check_gptq_inputs(rows, cols, hessian, options.block_size, options.damp, "gptq");
  block_grid_ops(type, cols);  // Error naming the type before anything else
  return gptq_quantize_onto(FormatGrid(type), w, rows, cols, hessian, importance,
                            {options.damp, options.block_size, false, options.keep_zeros});
}

QuantizedMatrix rtn_quantize_format(const float* w, int64_t rows, int64_t cols, DType type,
                                    const float* importance) {
  if (rows <= 0 || cols <= 0)
    throw Error("rtn", cat("weight shape must be positive, got [", rows, ", ", cols, "]"));
  return FormatGrid(type).round(w, rows, cols, importance);
}

}  // namespace lmpack
