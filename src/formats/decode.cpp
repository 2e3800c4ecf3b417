// decode_to_f32: the one dispatch from a DType to its format's row decoder.
#include "formats/decode.h"

#include <cstring>

#include "core/error.h"
#include "formats/bf16.h"
#include "formats/f16.h"
#include "formats/iq4_nl.h"
#include "formats/q2_k.h"
#include "formats/q3_k.h"
#include "formats/q4_0.h"
#include "formats/q4_1.h"
#include "formats/q4_k.h"
#include "formats/q5_0.h"
#include "formats/q5_1.h"
#include "formats/q5_k.h"
#include "formats/q6_k.h"
#include "formats/q8_0.h"

namespace lmpack {

void decode_to_f32(float* out, const void* in, DType type, int64_t n) {
  LMPACK_CHECK(n >= 0 && n % dtype_traits(type).block_elements == 0,
               cat(n, " elements of ", dtype_name(type)));
  switch (type) {
    case DType::F32: std::memcpy(out, in, static_cast<size_t>(n) * sizeof(float)); return;
    case DType::F16: dequantize_row_f16(out, in, n); return;
    case DType::BF16: dequantize_row_bf16(out, in, n); return;
    case DType::Q4_0: dequantize_row_q4_0(out, in, n); return;
    case DType::Q4_1: dequantize_row_q4_1(out, in, n); return;
    case DType::Q5_0: dequantize_row_q5_0(out, in, n); return;
    case DType::Q5_1: dequantize_row_q5_1(out, in, n); return;
    case DType::Q8_0: dequantize_row_q8_0(out, in, n); return;
    case DType::Q2_K: dequantize_row_q2_k(out, in, n); return;
    case DType::Q3_K: dequantize_row_q3_k(out, in, n); return;
    case DType::Q4_K: dequantize_row_q4_k(out, in, n); return;
    case DType::Q5_K: dequantize_row_q5_k(out, in, n); return;
    case DType::Q6_K: dequantize_row_q6_k(out, in, n); return;
    case DType::IQ4_NL: dequantize_row_iq4_nl(out, in, n); return;
    default: break;
  }
  throw Error(dtype_name(type), "cannot be decoded");
}

}  // namespace lmpack
