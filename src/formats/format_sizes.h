// Sizes of stored tensor types: values per block and bytes per block, for
// every DType. A format with a codec takes them from its row in the format
// table (formats/format.h: sizeof its block struct); the plain types lmpack
// reads and writes but never decodes (I8 I16 I32 I64 F64, which safetensors
// and GGUF can hold) are one value per block, sizeof its C++ type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace lmpack {

int64_t dtype_block_elements(DType type);  // 1 for plain and float types
int64_t dtype_block_bytes(DType type);     // bytes of one block (of one value for plain types)

// Bytes for n elements; n must be a multiple of the block size (caller checks
// with dtype_row_fits first).
size_t dtype_bytes(DType type, int64_t n_elements);
bool dtype_row_fits(DType type, int64_t row_elements);

}  // namespace lmpack
