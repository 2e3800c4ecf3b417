// FormatOps rows of the float family (F32, F16, BF16): one value per block
// (4 or 2 bytes), encode is a conversion (round to nearest even), importance
// is ignored, and the dot takes an fp32 activation row (dot_type F32).
#include <array>

#include "formats/bf16.h"
#include "formats/dots_x86.h"
#include "formats/f16.h"
#include "formats/f32.h"
#include "formats/format.h"

namespace lmpack {
namespace {

void quantize_row_f16_ops(void* out, const float* in, int64_t n, const float*) { quantize_row_f16(out, in, n); }
void quantize_row_bf16_ops(void* out, const float* in, int64_t n, const float*) { quantize_row_bf16(out, in, n); }

// Bytes of one value: an IEEE float, and the half / bfloat16 bits.
constexpr int64_t kF32Bytes = sizeof(float);
constexpr int64_t kHalfBytes = sizeof(uint16_t);
static_assert(kF32Bytes == 4 && kHalfBytes == 2, "GGML's f32 is 4 bytes, f16 and bf16 2");

FormatOps make_ops(DType type, int64_t value_bytes, QuantizeRowFn quantize, DequantizeRowFn dequantize, DotFn scalar,
                   DotFn avx2, DotFn avx512) {
  FormatOps ops{type, 1, value_bytes, quantize, dequantize, DType::F32, {scalar, avx2, avx512}, nullptr};
  for (int isa = static_cast<int>(active_isa()); isa >= 0 && ops.dot == nullptr; --isa) ops.dot = ops.dot_by_isa[isa];
  return ops;
}

const std::array<FormatOps, 3>& table() {
  static const std::array<FormatOps, 3> kTable = {
      make_ops(DType::F32, kF32Bytes, quantize_row_f32, dequantize_row_f32, dot_f32_f32_scalar, dot_f32_f32_avx2,
               dot_f32_f32_avx512),
      make_ops(DType::F16, kHalfBytes, quantize_row_f16_ops, dequantize_row_f16, dot_f16_f32_scalar,
               dot_f16_f32_avx2, dot_f16_f32_avx512),
      make_ops(DType::BF16, kHalfBytes, quantize_row_bf16_ops, dequantize_row_bf16, dot_bf16_f32_scalar,
               dot_bf16_f32_avx2, dot_bf16_f32_avx512),
  };
  return kTable;
}

}  // namespace

const FormatOps* find_float_format_ops(DType type) {
  for (const FormatOps& ops : table())
    if (ops.type == type) return &ops;
  return nullptr;
}

}  // namespace lmpack
