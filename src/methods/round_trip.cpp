// Matrix round trips on an integer group grid or a storage format; see
// round_trip.h.
#include "methods/round_trip.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "formats/format.h"

namespace lmpack {
namespace {

constexpr const char* kWhere = "round trip";

void check_call(const float* out, const float* in, int64_t rows, int64_t cols) {
  if (out == nullptr || in == nullptr) throw Error(kWhere, "null matrix");
  if (rows < 0 || cols <= 0) throw Error(kWhere, cat("matrix shape must be positive, got [", rows, ", ", cols, "]"));
}

}  // namespace

MatrixRoundTrip int_group_round_trip(const IntGridSpec& grid, int64_t group_size, const float* importance) {
  validate_int_grid(grid);
  if (group_size <= 0 && group_size != -1)
    throw Error(kWhere, cat("group_size must be > 0 or -1 (per-channel), got ", group_size));
  return [grid, group_size, importance](float* out, const float* in, int64_t rows, int64_t cols) {
    check_call(out, in, rows, cols);
    const int64_t gs = group_size == -1 ? cols : std::min(group_size, cols);
    parallel_for(rows, [&](int64_t r) {
      const float* w = in + r * cols;
      float* o = out + r * cols;
      for (int64_t g0 = 0; g0 < cols; g0 += gs) {
        const int64_t n = std::min(gs, cols - g0);
        const IntGroupParams p = find_params(w + g0, n, grid, importance ? importance + g0 : nullptr);
        for (int64_t c = g0; c < g0 + n; ++c) o[c] = round_to_grid(w[c], p);
      }
    });
  };
}

MatrixRoundTrip format_round_trip(DType type, const float* importance) {
  const FormatOps& ops = format_ops(type);
  if (ops.quantize_row == nullptr) throw Error(dtype_name(type), "cannot be written (no quantize_row)");
  return [&ops, type, importance](float* out, const float* in, int64_t rows, int64_t cols) {
    check_call(out, in, rows, cols);
    if (!dtype_row_fits(type, cols))
      throw Error(kWhere, cat(dtype_name(type), " rows must be a multiple of ", dtype_traits(type).block_elements,
                              " values, got ", cols));
    const size_t row_bytes = dtype_bytes(type, cols);
    parallel_for(rows, [&](int64_t r) {
      thread_local std::vector<uint8_t> buf;
      buf.resize(row_bytes);
      ops.quantize_row(buf.data(), in + r * cols, cols, importance);
      ops.dequantize_row(out + r * cols, buf.data(), cols);
    });
  };
}

}  // namespace lmpack
