// The one result of compressing a matrix: what every method returns and every
// writer takes. A matrix lands on a grid (grids/grid.h) in one of two
// storages:
//   encoded rows      a storage format (a GGUF block type, or F32/F16/BF16):
//                     `data` holds rows · dtype_bytes(type, cols) bytes that any
//                     GGUF reader decodes;
//   integer groups    codes with a scale and zero point per group of columns
//                     (grids/int_grid.h), the layout GPTQ/AWQ checkpoints pack
//                     (formats/int_packing.h).
// Both carry Ŵ, the values as stored, in `dequantized`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace lmpack {

enum class MatrixStorage { kEncodedRows, kIntGroups };

struct QuantizedMatrix {
  MatrixStorage storage = MatrixStorage::kEncodedRows;
  int64_t rows = 0, cols = 0;
  std::vector<float> dequantized;  // [rows, cols]: Ŵ
  // kEncodedRows:
  DType type = DType::F32;
  std::vector<uint8_t> data;  // rows · dtype_bytes(type, cols) bytes, row-major
  // kIntGroups: Ŵ = scale · (code - zero) per group.
  int64_t group_size = 0;       // columns per group (cols when per-channel)
  int64_t n_groups = 0;
  std::vector<uint8_t> codes;   // [rows, cols], in [0, 2^bits - 1]
  std::vector<float> scales;    // [rows, n_groups]
  std::vector<int32_t> zeros;   // [rows, n_groups]
  std::vector<int32_t> g_idx;   // [cols]: the group of each column

  bool int_groups() const { return storage == MatrixStorage::kIntGroups; }
};

// A zeroed matrix of integer groups of gs columns (g_idx = c / gs).
QuantizedMatrix make_int_group_matrix(int64_t rows, int64_t cols, int64_t gs);

// A zeroed matrix of rows · dtype_bytes(type, cols) bytes.
QuantizedMatrix make_encoded_matrix(DType type, int64_t rows, int64_t cols);

}  // namespace lmpack
