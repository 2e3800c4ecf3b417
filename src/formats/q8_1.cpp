#include "formats/q8_1.h"

#include <cmath>
#include <cstring>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "formats/dots_x86.h"

// No FMA contraction: GGML builds its encoders without it, and the bytes
// must match llama.cpp's on every rounding boundary (formats/scale_search.cpp).
#pragma GCC optimize("fp-contract=off")

namespace lmpack {

void dequantize_row_q8_1(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ8_1 blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ8_1), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    float* y = out + b * kQK;
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(blk.qs[j]);
  }
}

void quantize_row_q8_1_scalar(void* out, const float* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK;
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    BlockQ8_1 blk;
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      blk.qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      sum += blk.qs[j];
    }
    blk.d = f32_to_fp16(d);
    blk.s = f32_to_fp16(static_cast<float>(sum) * d);
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ8_1), &blk, sizeof blk);
  }
}

void quantize_row_q8_1(void* out, const float* in, int64_t n, const float* /*importance*/) {
  static const auto fn = [] {
    switch (active_isa()) {
      case Isa::kAvx512: return &quantize_row_q8_1_avx512;
      case Isa::kAvx2: return &quantize_row_q8_1_avx2;
      default: return &quantize_row_q8_1_scalar;
    }
  }();
  fn(out, in, n);
}

float dot_q8_1_q8_1_scalar(int64_t n, const void* w, const void* a) {
  const int64_t nb = n / kQK;
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ8_1 x, y;
    std::memcpy(&x, static_cast<const uint8_t*>(w) + b * sizeof(BlockQ8_1), sizeof x);
    std::memcpy(&y, static_cast<const uint8_t*>(a) + b * sizeof(BlockQ8_1), sizeof y);
    int s = 0;
    for (int j = 0; j < kQK; ++j) s += x.qs[j] * y.qs[j];
    sum += static_cast<float>(s) * (fp16_to_f32(x.d) * fp16_to_f32(y.d));
  }
  return sum;
}

}  // namespace lmpack
