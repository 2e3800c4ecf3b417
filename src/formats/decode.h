// Decoding any stored tensor type to fp32 (F32, F16, BF16 and the GGUF block
// types Q4_0 ... Q6_K and IQ4_NL). One function per format lives in that format's file
// (formats/q4_k.cpp, ...); this is the single dispatch over them.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace lmpack {

// out: [n] floats; in: dtype_bytes(type, n) bytes; n a multiple of the block size.
// Throws Error("<dtype>", "cannot be decoded") for types without a decoder.
void decode_to_f32(float* out, const void* in, DType type, int64_t n);

}  // namespace lmpack
