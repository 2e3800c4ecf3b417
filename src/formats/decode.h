// Decoding any stored tensor type to fp32 (F32, F16, BF16 and the GGUF block
// types Q4_0 ... Q6_K and IQ4_NL). One function per format lives in that
// format's file (formats/q4_k.cpp, ...), reached through its row in the format
// table (formats/format.h); the activation formats Q8_1 and Q8_K and the plain
// types without a codec (I8 ... I64, F64) are refused.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace lmpack {

// Whether decode_to_f32 accepts the type.
bool decodable_to_f32(DType type);

// out: [n] floats; in: dtype_bytes(type, n) bytes; n a multiple of the block size.
// Throws Error("<dtype>", "cannot be decoded") for types without a decoder.
void decode_to_f32(float* out, const void* in, DType type, int64_t n);

}  // namespace lmpack
