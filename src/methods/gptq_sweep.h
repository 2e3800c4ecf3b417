// Internal to methods/: the pieces of the OBS column sweep that GPTQ
// (gptq.cpp, gptq_format.cpp) and SparseGPT (sparsegpt.cpp) share beyond the
// Hessian preparation of gptq_hessian.h: integer group widths and results,
// the GGUF block-grid ops and results, the current value of a group's
// columns with the lazy updates still pending, the code of a value on a
// block grid, and the lazy update itself. See methods/gptq.h for the paper.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/dtype.h"
#include "formats/format.h"
#include "methods/gptq.h"
#include "methods/gptq_format.h"

namespace lmpack {

// Columns per integer group: group_size, or cols for per-channel (-1);
// Error(where, ...) for any other value <= 0.
int64_t int_group_width(int64_t group_size, int64_t cols, const char* where);

// importance + c, or null when there is no importance.
inline const float* importance_at(const float* importance, int64_t c) {
  return importance != nullptr ? importance + c : nullptr;
}

// A zeroed result for w [rows, cols] in groups of gs columns (g_idx = c / gs).
IntQuantizedMatrix make_int_quantized(int64_t rows, int64_t cols, int64_t gs);

// The ops of a type with a uniform block grid (row_grid, set_row_codes), or
// an Error naming the type; also an Error when cols is not a whole number of
// the type's blocks.
const FormatOps& block_grid_ops(DType type, int64_t cols);

// A zeroed result of rows · dtype_bytes(type, cols) bytes.
FormatQuantizedMatrix make_format_quantized(DType type, int64_t rows, int64_t cols);

// m.dequantized = decode(m.data), row by row.
void decode_format_rows(FormatQuantizedMatrix& m, const FormatOps& ops);

// The code of x on a block grid (value = s·code + o): round((x - o) / s)
// clamped to [code_min, code_max]; code 0 clamped when s is 0 (every code
// then decodes to o).
inline int32_t block_grid_code(float x, float s, float o, const FormatOps& ops) {
  float q = 0.0f;
  if (s != 0.0f) q = std::nearbyint((x - o) / s);
  return static_cast<int32_t>(std::clamp(q, static_cast<float>(ops.code_min), static_cast<float>(ops.code_max)));
}

// In a sweep over the lazy batch [b0, b1) that has reached column i: the
// current values of one row's columns [i, end) into out [end - i], i.e. wr
// with the batch's scaled errors er [b1 - b0] of the columns [b0, i) also
// applied to the columns >= b1 (their lazy update is still pending).
// u: [cols, cols] upper factor of H⁻¹.
void sweep_current_values(float* out, const float* wr, const float* er, const float* u, int64_t cols, int64_t b0,
                          int64_t i, int64_t b1, int64_t end);

// W[:, b1:] -= Err · U[b0:b1, b1:] for w [rows, cols], err [rows, ld_err]
// (the batch's scaled errors in its first b1 - b0 columns), u [cols, cols].
void sweep_lazy_update(float* w, const float* err, int64_t ld_err, const float* u, int64_t rows, int64_t cols,
                       int64_t b0, int64_t b1);

}  // namespace lmpack
