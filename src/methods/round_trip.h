// Quantize-dequantize round trips of a whole matrix, as MatrixRoundTrip
// functions (methods/awq.h) for methods that only need to see what a grid
// does to a matrix (AWQ's scale search, error reports):
//   int_group_round_trip  integer group grid (grids/int_grid.h): each row is
//                         cut into groups of group_size columns, each group's
//                         scale/zero found from its own values, every value
//                         rounded to nearest (the RTN baseline of methods/gptq.h);
//   format_round_trip     a storage format (formats/format.h): each row encoded
//                         with quantize_row and decoded with dequantize_row.
// Both run rows in parallel over the thread team (core/parallel.h).
// Importance: [cols] non-negative weights per input column (an imatrix's mean
// x², say), or nullptr for none. Not copied: it must outlive every call of the
// returned function and have as many entries as the matrices have columns.
// It applies to the matrix as the round trip sees it: a caller that scales
// column c by s_c (AWQ) should pass mean x_c² / s_c².
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "grids/int_grid.h"
#include "methods/awq.h"

namespace lmpack {

// group_size > 0, or -1 for one group per row (a group at the end of a row may
// be shorter). Throws Error("int grid", ...) for a bad spec and
// Error("round trip", ...) for a bad group size; the returned function throws
// Error("round trip", ...) for a null matrix or a non-positive width.
MatrixRoundTrip int_group_round_trip(const IntGridSpec& grid, int64_t group_size, const float* importance = nullptr);

// Throws Error(type name, ...) for a type that cannot be written. The returned
// function throws Error("round trip", ...) when cols is not a whole number of
// the format's blocks.
MatrixRoundTrip format_round_trip(DType type, const float* importance = nullptr);

}  // namespace lmpack
