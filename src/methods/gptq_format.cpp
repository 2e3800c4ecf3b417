// GPTQ onto the GGUF block grids, and the format's own encoder as its
// round-to-nearest baseline; see gptq_format.h for the method and gptq.h for
// the paper (Frantar et al., 2022, arXiv:2210.17323). Objective, as GPTQ's:
//     argmin_Ŵ ||W·X - Ŵ·X||²_F,   each row of Ŵ decodable from the format.
//
// Deviations from gptq.cpp's integer-group sweep:
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

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/parallel.h"
#include "methods/gptq_hessian.h"
#include "methods/gptq_sweep.h"

namespace lmpack {
namespace {

constexpr const char* kWhere = "gptq";

}  // namespace

FormatQuantizedMatrix gptq_quantize_format(const float* w, int64_t rows, int64_t cols, const Hessian& hessian,
                                           DType type, const float* importance, const GptqFormatOptions& options) {
  check_gptq_inputs(rows, cols, hessian, options.block_size, options.damp, kWhere);
  const FormatOps& ops = block_grid_ops(type, cols);
  const int64_t block = dtype_traits(type).block_elements;   // columns per format block
  const size_t block_bytes = dtype_bytes(type, block);
  const size_t row_bytes = dtype_bytes(type, cols);
  FormatQuantizedMatrix out = make_format_quantized(type, rows, cols);

  std::vector<float> wp(w, w + rows * cols);  // [rows, cols], updated in place by the sweep
  const std::vector<double> diag = gptq_clear_dead_columns(wp.data(), rows, cols, hessian);
  std::vector<double> h = hessian.h;  // [cols, cols]
  for (int64_t i = 0; i < cols; ++i) h[i * cols + i] = diag[i];
  const std::vector<float> u = gptq_inverse_factor(std::move(h), cols, options.damp);  // [cols, cols]

  // Column sweep, one lazy batch of bs columns (whole format blocks) at a time.
  const int64_t bs = std::min((options.block_size + block - 1) / block * block, cols);
  std::vector<float> err(static_cast<size_t>(rows * bs));  // [rows, bs]: scaled errors of the batch
  for (int64_t b0 = 0; b0 < cols; b0 += bs) {
    const int64_t b1 = std::min(b0 + bs, cols);
    parallel_for(rows, [&](int64_t r) {
      float* wr = wp.data() + r * cols;
      float* er = err.data() + r * bs;
      std::vector<float> scale(block), offset(block);  // [block]: the grid of the current block
      std::vector<int32_t> codes(block);               // [block]
      for (int64_t c0 = b0; c0 < b1; c0 += block) {
        // The block's weights as they stand now (every earlier error already
        // applied, see the deviations) choose its scales and mins.
        uint8_t* blk = out.data.data() + r * row_bytes + (c0 / block) * block_bytes;
        ops.quantize_row(blk, wr + c0, block, importance != nullptr ? importance + c0 : nullptr);
        ops.row_grid(scale.data(), offset.data(), blk, block);
        for (int64_t k = 0; k < block; ++k) {
          const int64_t i = c0 + k;
          const float s = scale[k], o = offset[k];
          const bool keep_zero = options.keep_zeros && w[r * cols + i] == 0.0f;
          codes[k] = block_grid_code(keep_zero ? 0.0f : wr[i], s, o, ops);
          const float wq = s * static_cast<float>(codes[k]) + o;
          const float e = (wr[i] - wq) / u[i * cols + i];
          er[i - b0] = e;
          const float* ui = u.data() + i * cols;
          for (int64_t j = i + 1; j < b1; ++j) wr[j] -= e * ui[j];
        }
        ops.set_row_codes(blk, codes.data(), block);
      }
    });
    // Lazy update of the columns past the batch: W[:, b1:] -= Err · U[b0:b1, b1:].
    sweep_lazy_update(wp.data(), err.data(), bs, u.data(), rows, cols, b0, b1);
  }
  decode_format_rows(out, ops);
  return out;
}

FormatQuantizedMatrix rtn_quantize_format(const float* w, int64_t rows, int64_t cols, DType type,
                                          const float* importance) {
  const std::string name(dtype_name(type));
  if (rows <= 0 || cols <= 0)
    throw Error("rtn", cat("weight shape must be positive, got [", rows, ", ", cols, "]"));
  const FormatOps& ops = format_ops(type);
  if (ops.quantize_row == nullptr) throw Error(name, "cannot be written (no encoder)");
  const int64_t block = dtype_traits(type).block_elements;
  if (cols % block != 0)
    throw Error(name, cat("rows of ", cols, " columns are not a whole number of ", block, "-element blocks"));
  FormatQuantizedMatrix out = make_format_quantized(type, rows, cols);
  const size_t row_bytes = dtype_bytes(type, cols);
  parallel_for(rows, [&](int64_t r) {
    ops.quantize_row(out.data.data() + r * row_bytes, w + r * cols, cols, importance);
  });
  decode_format_rows(out, ops);
  return out;
}

}  // namespace lmpack
