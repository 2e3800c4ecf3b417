// The one grid interface: the values a matrix may take after compression.
// Two kinds sit behind it:
//   IntGroupGrid   integer codes, a scale and zero per group of columns
//                  (grids/int_grid.h; GPTQ/AWQ checkpoints);
//   FormatGrid     a storage format's rows (formats/format.h): the GGUF
//                  block types (their uniform block grids) and F32/F16/BF16.
// A method uses a grid in one of two ways:
//   round()        every row on its own, to nearest (RTN; the format's own
//                  encoder), optionally weighted per column by an importance;
//   sweep()        column by column, the method choosing each value (the OBS
//                  sweep of GPTQ and SparseGPT, methods/obs_sweep.h): the grid
//                  of a unit of columns (an integer group, a format block) is
//                  fitted when the sweep reaches the unit, from the weights as
//                  they stand then, and each column is rounded onto it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "grids/quantized_matrix.h"

namespace lmpack {

// One row of a sweep, used by one thread: fit a unit, round its columns.
class GridRowSweep {
 public:
  virtual ~GridRowSweep() = default;
  // Fits the unit whose first column is c0 (a multiple of unit()) to its
  // current values [len].
  virtual void fit(int64_t c0, const float* values, int64_t len) = 0;
  // The grid value for x in column c (of a fitted unit); its code is recorded.
  virtual float round(int64_t c, float x) = 0;
  // Called after column c was rounded; the last column of a unit completes it.
  virtual void rounded(int64_t c) = 0;
};

// The state of one matrix being swept onto a grid. Rows are independent:
// row(r) objects of different rows may be used from different threads.
class GridSweep {
 public:
  virtual ~GridSweep() = default;
  virtual int64_t unit() const = 0;       // columns a fit covers
  virtual int64_t alignment() const = 0;  // a lazy batch must be a multiple of this (a unit may not straddle one)
  // Fits every unit of every row before the sweep, from w [rows, cols]
  // (static groups: the sweep may then visit columns in any order).
  // Error(grid, ...) when the grid cannot (format blocks).
  virtual void fit_all(const float* w) = 0;
  virtual std::unique_ptr<GridRowSweep> row(int64_t r) = 0;
  // The result, once every column of every row was rounded.
  virtual QuantizedMatrix finish() = 0;
};

// Quantize-dequantize of a matrix on a grid: out = Q(in), in/out [rows, cols].
using MatrixRoundTrip = std::function<void(float* out, const float* in, int64_t rows, int64_t cols)>;

class Grid {
 public:
  virtual ~Grid() = default;
  // "q4_K", "int4 g128 asym", "f16"
  virtual std::string label() const = 0;
  // Round to nearest, row by row (importance: [cols] or null). Error(label,
  // ...) when cols does not fit the grid.
  virtual QuantizedMatrix round(const float* w, int64_t rows, int64_t cols, const float* importance) const = 0;
  // The same as a round trip (not copied: importance must outlive it).
  virtual MatrixRoundTrip round_trip(const float* importance) const = 0;
  // Whether a sweep can round rows of cols columns onto this grid (false: a
  // float format, a non-uniform grid, or a row that is not whole blocks).
  virtual bool sweepable(int64_t cols) const = 0;
  // Starts a sweep; Error(where or the grid, ...) when not sweepable.
  virtual std::unique_ptr<GridSweep> sweep(int64_t rows, int64_t cols, const float* importance,
                                           const char* where) const = 0;
};

}  // namespace lmpack
