// Storage formats behind the grid interface (grids/grid.h): a row is encoded
// by the format's own encoder (formats/format.h quantize_row, importance-
// weighted when given). Sweeps need a uniform block grid (FormatOps::row_grid,
// set_row_codes: Q2_K..Q6_K, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) and rows of whole
// blocks: when a sweep reaches a block's first column the encoder picks the
// block's scales and mins from its current weights, the sweep rounds each
// column onto that grid (code = round((x - offset) / scale), clamped), and the
// codes are written into the block with set_row_codes. Float formats and
// IQ4_NL only round. The result is bytes any GGUF reader decodes.
#pragma once

#include <cstdint>
#include <memory>

#include "core/dtype.h"
#include "formats/format.h"
#include "grids/grid.h"

namespace lmpack {

// The ops of a type with a uniform block grid, or an Error naming the type;
// also an Error when cols is not a whole number of the type's blocks.
const FormatOps& block_grid_ops(DType type, int64_t cols);

// The code of x on a block grid (value = s·code + o): round((x - o) / s)
// clamped to [code_min, code_max]; code 0 clamped when s is 0 (every code
// then decodes to o).
int32_t block_grid_code(float x, float s, float o, const FormatOps& ops);

// m.dequantized = decode(m.data), row by row.
void decode_encoded_rows(QuantizedMatrix& m);

class FormatGrid final : public Grid {
 public:
  // Error(type name, ...) for a type that cannot be written.
  explicit FormatGrid(DType type);
  DType type() const { return type_; }

  std::string label() const override;
  QuantizedMatrix round(const float* w, int64_t rows, int64_t cols, const float* importance) const override;
  MatrixRoundTrip round_trip(const float* importance) const override;
  bool sweepable(int64_t cols) const override;
  std::unique_ptr<GridSweep> sweep(int64_t rows, int64_t cols, const float* importance,
                                   const char* where) const override;

 private:
  DType type_;
  const FormatOps* ops_;
};

}  // namespace lmpack
