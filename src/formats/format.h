// The one traits table of storage formats: for each DType with a codec, its
// block size (values per block, and bytes: sizeof the format's block struct,
// whose header static_asserts GGML's size), how to encode a row (with
// optional per-column importance weights), decode it, and take the dot
// product of a stored row with an activation row quantized to the format's
// `dot_type` (Q8_0, Q8_1 or Q8_K blocks; F32 for float formats).
// Dot products exist per instruction set; the scalar one is always built and
// is the oracle in tests; format_ops(type).dot is the best for active_isa().
// Sizes of any DType, formats or not: formats/format_sizes.h.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "core/dtype.h"

namespace lmpack {

// out: dtype_bytes(type, n) bytes; in: [n]; importance: [n] non-negative
// weights per element (per column of the matrix), or nullptr for none.
using QuantizeRowFn = void (*)(void* out, const float* in, int64_t n, const float* importance);
using DequantizeRowFn = void (*)(float* out, const void* in, int64_t n);
// sum_i w[i] * a[i] over n elements; w: a stored row, a: a dot_type row.
using DotFn = float (*)(int64_t n, const void* w, const void* a);
// The grid of an encoded row, for methods that choose the codes themselves
// (GPTQ onto a block format, methods/gptq_format.h): element j of the row
// can hold exactly the values scale[j] * q + offset[j] for the integers q in
// [code_min, code_max], given the block scales/mins that quantize_row wrote.
//   scale, offset: [n] out; row: dtype_bytes(type, n) bytes.
using RowGridFn = void (*)(float* scale, float* offset, const void* row, int64_t n);
// Replaces the codes of an encoded row, keeping its block scales/mins:
// afterwards dequantize_row gives scale[j] * codes[j] + offset[j] (as
// RowGridFn reports them). codes: [n], each in [code_min, code_max].
using SetRowCodesFn = void (*)(void* row, const int32_t* codes, int64_t n);

struct FormatOps {
  DType type;
  int64_t block_elements;          // values per block: 1 for F32, F16, BF16
  int64_t block_bytes;             // bytes per block: sizeof the block struct (or the value)
  QuantizeRowFn quantize_row;      // nullptr: this format cannot be written
  DequantizeRowFn dequantize_row;  // never nullptr
  DType dot_type;                  // the activation format of `dot`
  DotFn dot_by_isa[kIsaCount];     // [Isa]; scalar always set, others may be nullptr
  DotFn dot;                       // best variant for active_isa()
  // Uniform block grids (Q2_K..Q6_K, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) set these;
  // float formats and non-uniform grids (IQ4_NL) leave them null.
  RowGridFn row_grid = nullptr;
  SetRowCodesFn set_row_codes = nullptr;
  int32_t code_min = 0, code_max = 0;
  // Activation formats (Q8_1, Q8_K) only hold the other side of a dot
  // product: as in GGML, no tensor is decoded from them (formats/decode.h).
  bool activation_only = false;
};

// nullptr for a type with no ops.
const FormatOps* find_format_ops(DType type);
// Throws Error(dtype name, "is not supported for ...") for a type with no ops.
const FormatOps& format_ops(DType type);

// Per-family tables (formats/format_table_*.cpp); find_format_ops asks each.
const FormatOps* find_float_format_ops(DType type);   // F32, F16, BF16
const FormatOps* find_legacy_format_ops(DType type);  // Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1 IQ4_NL
const FormatOps* find_k_format_ops(DType type);       // Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K

}  // namespace lmpack
