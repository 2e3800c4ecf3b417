// F16: IEEE 754 half precision, one value per 2 bytes (16 bits per weight).
// Layout: sign(1) exponent(5, bias 15) mantissa(10), little-endian uint16.
// GGML type id 1. Scalar conversion lives in core/dtype.h; these are the row
// functions the formats layer offers for every format.
#pragma once

#include <cstdint>

namespace lmpack {

// out: [n] floats; in: [n] halves.
void dequantize_row_f16(float* out, const void* in, int64_t n);
// out: [n] halves, rounded to nearest even; in: [n] floats.
void quantize_row_f16(void* out, const float* in, int64_t n);

}  // namespace lmpack
