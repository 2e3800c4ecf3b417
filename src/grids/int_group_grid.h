// Integer group grids behind the grid interface (grids/grid.h): each row is
// cut into groups of group_size columns (-1: one group per row; the last
// group of a row may be shorter), each group gets a scale and zero point
// (grids/int_grid.h find_params, importance-weighted when given) and every
// value an integer code. Sweeps fit a group when they reach its first column
// (from the group's current values, lazy updates still pending included) or,
// with fit_all, every group up front (static groups for GPTQ's act order).
#pragma once

#include <cstdint>
#include <memory>

#include "grids/grid.h"
#include "grids/int_grid.h"

namespace lmpack {

// Columns per integer group: group_size, or cols for per-channel (-1);
// Error(where, ...) for any other value <= 0.
int64_t int_group_width(int64_t group_size, int64_t cols, const char* where);

// "int4 g128 asym", "int8 per-channel sym"
std::string int_group_grid_label(const IntGridSpec& spec, int64_t group_size);

class IntGroupGrid final : public Grid {
 public:
  // Error("int grid", ...) for a bad spec; group_size > 0 or -1 (checked per
  // matrix: Error(where, ...)).
  IntGroupGrid(const IntGridSpec& spec, int64_t group_size);
  const IntGridSpec& spec() const { return spec_; }
  int64_t group_size() const { return group_size_; }

  std::string label() const override;
  QuantizedMatrix round(const float* w, int64_t rows, int64_t cols, const float* importance) const override;
  MatrixRoundTrip round_trip(const float* importance) const override;
  bool sweepable(int64_t cols) const override;
  std::unique_ptr<GridSweep> sweep(int64_t rows, int64_t cols, const float* importance,
                                   const char* where) const override;

 private:
  IntGridSpec spec_;
  int64_t group_size_;
};

}  // namespace lmpack
