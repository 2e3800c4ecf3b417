// Shared pieces of the GPTQ / SparseGPT column sweeps (methods/gptq_sweep.h).
#include "methods/gptq_sweep.h"

#include <string>

#include "core/error.h"
#include "core/parallel.h"
#include "kernels/matmul.h"

namespace lmpack {

int64_t int_group_width(int64_t group_size, int64_t cols, const char* where) {
  if (group_size == -1) return cols;
  if (group_size <= 0) throw Error(where, cat("group_size must be > 0 or -1 (per-channel), got ", group_size));
  return std::min(group_size, cols);
}

IntQuantizedMatrix make_int_quantized(int64_t rows, int64_t cols, int64_t gs) {
  IntQuantizedMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.group_size = gs;
  m.n_groups = (cols + gs - 1) / gs;
  m.codes.assign(static_cast<size_t>(rows * cols), 0);
  m.dequantized.assign(static_cast<size_t>(rows * cols), 0.0f);
  m.scales.assign(static_cast<size_t>(rows * m.n_groups), 0.0f);
  m.zeros.assign(static_cast<size_t>(rows * m.n_groups), 0);
  m.g_idx.resize(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) m.g_idx[c] = static_cast<int32_t>(c / gs);
  return m;
}

const FormatOps& block_grid_ops(DType type, int64_t cols) {
  const FormatOps* ops = find_format_ops(type);
  const std::string name(dtype_name(type));
  if (ops == nullptr || ops->quantize_row == nullptr || ops->row_grid == nullptr || ops->set_row_codes == nullptr)
    throw Error(name, "has no uniform block grid for GPTQ (use Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q4_0, Q4_1, Q5_0, "
                      "Q5_1 or Q8_0)");
  const int64_t block = dtype_traits(type).block_elements;
  if (cols % block != 0)
    throw Error(name, cat("rows of ", cols, " columns are not a whole number of ", block, "-element blocks"));
  return *ops;
}

FormatQuantizedMatrix make_format_quantized(DType type, int64_t rows, int64_t cols) {
  FormatQuantizedMatrix m;
  m.type = type;
  m.rows = rows;
  m.cols = cols;
  m.data.assign(static_cast<size_t>(rows) * dtype_bytes(type, cols), 0);
  m.dequantized.assign(static_cast<size_t>(rows * cols), 0.0f);
  return m;
}

void decode_format_rows(FormatQuantizedMatrix& m, const FormatOps& ops) {
  const size_t row_bytes = dtype_bytes(m.type, m.cols);
  parallel_for(m.rows, [&](int64_t r) {
    ops.dequantize_row(m.dequantized.data() + r * m.cols, m.data.data() + r * row_bytes, m.cols);
  });
}

void sweep_current_values(float* out, const float* wr, const float* er, const float* u, int64_t cols, int64_t b0,
                          int64_t i, int64_t b1, int64_t end) {
  for (int64_t j = i; j < end; ++j) {
    float v = wr[j];
    if (j >= b1)
      for (int64_t k = b0; k < i; ++k) v -= er[k - b0] * u[k * cols + j];
    out[j - i] = v;
  }
}

void sweep_lazy_update(float* w, const float* err, int64_t ld_err, const float* u, int64_t rows, int64_t cols,
                       int64_t b0, int64_t b1) {
  if (b1 >= cols) return;
  sgemm(false, false, rows, cols - b1, b1 - b0, -1.0f, err, ld_err, u + b0 * cols + b1, cols, 1.0f, w + b1, cols);
}

}  // namespace lmpack
