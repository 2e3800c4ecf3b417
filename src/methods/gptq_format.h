// GPTQ onto the block grids of the GGUF formats (Q2_K..Q6_K, Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0): the column sweep of GPTQ (methods/gptq.h, same Hessian
// preparation: dead columns, dampening, U = chol(H⁻¹)ᵀ, lazy block updates),
// but the grid of each format block (256 columns for k-quants, 32 for the
// legacy types) is chosen when the sweep reaches the block's first column:
// the format's own encoder (formats/format.h quantize_row, importance-
// weighted when importance is given) picks the block's scales and mins from
// the current, error-compensated weights of that block (pending lazy updates
// included), then the block's columns are rounded one at a time onto that
// grid (FormatOps::row_grid) with GPTQ's error feedback, and the codes are
// written with FormatOps::set_row_codes. The result is bytes of the format
// that any GGUF reader decodes.
//
// The grid is grids/format_grid.h and the sweep methods/obs_sweep.h: this
// is gptq_quantize_onto (gptq.h) with a FormatGrid.
// Round-to-nearest on the same grid is the format's plain encoder
// (quantize_row with the same importance): rtn_quantize_format.
#pragma once

#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "grids/quantized_matrix.h"
#include "stats/hessian.h"

namespace lmpack {

struct GptqFormatOptions {
  double damp = 0.01;        // fraction of mean(diag H) added to the diagonal
  int64_t block_size = 128;  // lazy-batch width; rounded up to a multiple of the format block
  // Weights exactly 0 in w get the code nearest 0 (exactly 0 on the grids
  // that hold it: Q4_0, Q5_0, Q8_0, Q3_K, Q6_K; formats with block minimums
  // usually cannot): a pruned model keeps its zeros where the format allows.
  bool keep_zeros = false;
};

// Throws Error(dtype name, ...) when the type has no row grid (float types,
// IQ4_NL) or cols is not a multiple of its block size; Error("gptq", ...) for
// a Hessian of the wrong size or one that is not positive definite.
// importance: [cols] non-negative weights for the block-grid search, or null.
QuantizedMatrix gptq_quantize_format(const float* w, int64_t rows, int64_t cols, const Hessian& hessian,
                                     DType type, const float* importance, const GptqFormatOptions& options);

// The format's encoder row by row (any writable type, float types included).
QuantizedMatrix rtn_quantize_format(const float* w, int64_t rows, int64_t cols, DType type,
                                    const float* importance);

}  // namespace lmpack
