// Matrix round trips on an integer group grid or a storage format; see
// round_trip.h. The grids (grids/int_group_grid.h, grids/format_grid.h) do
// the work.
#include "methods/round_trip.h"

#include "grids/format_grid.h"
#include "grids/int_group_grid.h"

namespace lmpack {

MatrixRoundTrip int_group_round_trip(const IntGridSpec& grid, int64_t group_size, const float* importance) {
  return IntGroupGrid(grid, group_size).round_trip(importance);
}

MatrixRoundTrip format_round_trip(DType type, const float* importance) {
  return FormatGrid(type).round_trip(importance);
}

}  // namespace lmpack
