// Storage formats as grids; see format_grid.h.
#include "grids/format_grid.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "formats/format_sizes.h"

namespace lmpack {
namespace {

const float* at(const float* importance, int64_t c) { return importance != nullptr ? importance + c : nullptr; }

class FormatRowSweep;

class FormatSweep final : public GridSweep {
 public:
  FormatSweep(DType type, const FormatOps& ops, int64_t rows, int64_t cols, const float* importance)
      : ops_(ops), importance_(importance), block_(dtype_block_elements(type)),
        block_bytes_(dtype_bytes(type, block_)), row_bytes_(dtype_bytes(type, cols)),
        out_(make_encoded_matrix(type, rows, cols)) {}

  int64_t unit() const override { return block_; }
  int64_t alignment() const override { return block_; }  // a block's grid is fitted with no update pending
  void fit_all(const float*) override {
    throw Error(std::string(dtype_name(out_.type)),
                "block grids are fitted as the sweep reaches each block, in column order (no act order)");
  }
  std::unique_ptr<GridRowSweep> row(int64_t r) override;
  QuantizedMatrix finish() override {
    decode_encoded_rows(out_);
    return std::move(out_);
  }

 private:
  friend class FormatRowSweep;
  const FormatOps& ops_;
  const float* importance_;
  int64_t block_;
  size_t block_bytes_, row_bytes_;
  QuantizedMatrix out_;
};

class FormatRowSweep final : public GridRowSweep {
 public:
  FormatRowSweep(FormatSweep& s, int64_t r)
      : s_(s), row_(s.out_.data.data() + r * s.row_bytes_), scale_(s.block_), offset_(s.block_), codes_(s.block_) {}

  void fit(int64_t c0, const float* values, int64_t len) override {
    blk_ = row_ + (c0 / s_.block_) * s_.block_bytes_;
    c0_ = c0;
    s_.ops_.quantize_row(blk_, values, len, at(s_.importance_, c0));
    s_.ops_.row_grid(scale_.data(), offset_.data(), blk_, len);
  }
  float round(int64_t c, float x) override {
    const int64_t k = c - c0_;
    codes_[k] = block_grid_code(x, scale_[k], offset_[k], s_.ops_);
    return scale_[k] * static_cast<float>(codes_[k]) + offset_[k];
  }
  void rounded(int64_t c) override {
    if (c - c0_ == s_.block_ - 1) s_.ops_.set_row_codes(blk_, codes_.data(), s_.block_);
  }

 private:
  FormatSweep& s_;
  uint8_t* row_;
  uint8_t* blk_ = nullptr;
  int64_t c0_ = 0;
  std::vector<float> scale_, offset_;  // [block]: the grid of the current block
  std::vector<int32_t> codes_;         // [block]
};

std::unique_ptr<GridRowSweep> FormatSweep::row(int64_t r) { return std::make_unique<FormatRowSweep>(*this, r); }

}  // namespace

const FormatOps& block_grid_ops(DType type, int64_t cols) {
  const FormatOps* ops = find_format_ops(type);
  const std::string name(dtype_name(type));
  if (ops == nullptr || ops->quantize_row == nullptr || ops->row_grid == nullptr || ops->set_row_codes == nullptr)
    throw Error(name, "has no uniform block grid for GPTQ (use Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q4_0, Q4_1, Q5_0, "
                      "Q5_1 or Q8_0)");
  const int64_t block = dtype_block_elements(type);
  if (cols % block != 0)
    throw Error(name, cat("rows of ", cols, " columns are not a whole number of ", block, "-element blocks"));
  return *ops;
}

int32_t block_grid_code(float x, float s, float o, const FormatOps& ops) {
  float q = 0.0f;
  if (s != 0.0f) q = std::nearbyint((x - o) / s);
  return static_cast<int32_t>(std::clamp(q, static_cast<float>(ops.code_min), static_cast<float>(ops.code_max)));
}

void decode_encoded_rows(QuantizedMatrix& m) {
  const FormatOps& ops = format_ops(m.type);
  const size_t row_bytes = dtype_bytes(m.type, m.cols);
  parallel_for(m.rows, [&](int64_t r) {
    ops.dequantize_row(m.dequantized.data() + r * m.cols, m.data.data() + r * row_bytes, m.cols);
  });
}

FormatGrid::FormatGrid(DType type) : type_(type), ops_(&format_ops(type)) {
  if (ops_->quantize_row == nullptr) throw Error(std::string(dtype_name(type)), "cannot be written (no encoder)");
}

std::string FormatGrid::label() const { return std::string(dtype_name(type_)); }

QuantizedMatrix FormatGrid::round(const float* w, int64_t rows, int64_t cols, const float* importance) const {
  if (rows <= 0 || cols <= 0)
    throw Error("rtn", cat("weight shape must be positive, got [", rows, ", ", cols, "]"));
  const int64_t block = dtype_block_elements(type_);
  if (cols % block != 0)
    throw Error(label(), cat("rows of ", cols, " columns are not a whole number of ", block, "-element blocks"));
  QuantizedMatrix out = make_encoded_matrix(type_, rows, cols);
  const size_t row_bytes = dtype_bytes(type_, cols);
  parallel_for(rows, [&](int64_t r) {
    ops_->quantize_row(out.data.data() + r * row_bytes, w + r * cols, cols, importance);
  });
  decode_encoded_rows(out);
  return out;
}

MatrixRoundTrip FormatGrid::round_trip(const float* importance) const {
  constexpr const char* where = "round trip";
  return [ops = ops_, type = type_, importance](float* out, const float* in, int64_t rows, int64_t cols) {
    if (out == nullptr || in == nullptr) throw Error(where, "null matrix");
    if (rows < 0 || cols <= 0) throw Error(where, cat("matrix shape must be positive, got [", rows, ", ", cols, "]"));
    if (!dtype_row_fits(type, cols))
      throw Error(where, cat(dtype_name(type), " rows must be a multiple of ", dtype_block_elements(type),
                             " values, got ", cols));
    const size_t row_bytes = dtype_bytes(type, cols);
    parallel_for(rows, [&](int64_t r) {
      thread_local std::vector<uint8_t> buf;
      buf.resize(row_bytes);
      ops->quantize_row(buf.data(), in + r * cols, cols, importance);
      ops->dequantize_row(out + r * cols, buf.data(), cols);
    });
  };
}

bool FormatGrid::sweepable(int64_t cols) const {
  return ops_->row_grid != nullptr && ops_->set_row_codes != nullptr && cols > 0 &&
         cols % dtype_block_elements(type_) == 0;
}

std::unique_ptr<GridSweep> FormatGrid::sweep(int64_t rows, int64_t cols, const float* importance,
                                             const char*) const {
  const FormatOps& ops = block_grid_ops(type_, cols);
  return std::make_unique<FormatSweep>(type_, ops, rows, cols, importance);
}

}  // namespace lmpack
