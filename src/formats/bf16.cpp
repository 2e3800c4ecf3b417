#include "formats/bf16.h"

#include <cstring>

#include "core/cpu_features.h"
#include "core/dtype.h"

namespace lmpack {

void dequantize_row_bf16_scalar(float* out, const void* in, int64_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(in);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t b;
    std::memcpy(&b, p + 2 * i, 2);
    out[i] = bf16_to_f32(b);
  }
}

void quantize_row_bf16_scalar(void* out, const float* in, int64_t n) {
  uint8_t* p = static_cast<uint8_t*>(out);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t b = f32_to_bf16(in[i]);
    std::memcpy(p + 2 * i, &b, 2);
  }
}

void quantize_row_bf16(void* out, const float* in, int64_t n) {
  static const auto fn = active_isa() >= Isa::kAvx2 ? &quantize_row_bf16_avx2 : &quantize_row_bf16_scalar;
  fn(out, in, n);
}

void dequantize_row_bf16(float* out, const void* in, int64_t n) {
  static const auto fn = active_isa() >= Isa::kAvx2 ? &dequantize_row_bf16_avx2 : &dequantize_row_bf16_scalar;
  fn(out, in, n);
}

}  // namespace lmpack
