// Zeroed QuantizedMatrix results; see quantized_matrix.h.
#include "grids/quantized_matrix.h"

#include "core/large_buffer.h"
#include "formats/format_sizes.h"

namespace lmpack {

QuantizedMatrix make_int_group_matrix(int64_t rows, int64_t cols, int64_t gs) {
  QuantizedMatrix m;
  m.storage = MatrixStorage::kIntGroups;
  m.rows = rows;
  m.cols = cols;
  m.group_size = gs;
  m.n_groups = (cols + gs - 1) / gs;
  m.codes = large_vector<uint8_t>(static_cast<size_t>(rows * cols));
  m.dequantized = large_vector<float>(static_cast<size_t>(rows * cols));
  m.scales.assign(static_cast<size_t>(rows * m.n_groups), 0.0f);
  m.zeros.assign(static_cast<size_t>(rows * m.n_groups), 0);
  m.g_idx.resize(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) m.g_idx[c] = static_cast<int32_t>(c / gs);
  return m;
}

QuantizedMatrix make_encoded_matrix(DType type, int64_t rows, int64_t cols) {
  QuantizedMatrix m;
  m.storage = MatrixStorage::kEncodedRows;
  m.type = type;
  m.rows = rows;
  m.cols = cols;
  m.data = large_vector<uint8_t>(static_cast<size_t>(rows) * dtype_bytes(type, cols));
  m.dequantized = large_vector<float>(static_cast<size_t>(rows * cols));
  return m;
}

}  // namespace lmpack
