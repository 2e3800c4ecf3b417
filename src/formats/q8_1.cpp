#include "formats/q8_1.h"

#include <cstring>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "formats/dots_x86.h"
#include "formats/q8_block.h"
#include "formats/quantize_q8_rows.h"

namespace lmpack {

void dequantize_row_q8_1(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ8_1 blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ8_1), sizeof blk);
    dequantize_block_q8(out + b * kQK, fp16_to_f32(blk.d), blk.qs);
  }
}

void quantize_row_q8_1_scalar(void* out, const float* in, int64_t n) {
  quantize_rows_q8_1<quantize_block_q8_scalar>(out, in, n);
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
    sum += static_cast<float>(dot_block_q8_q8(x.qs, y.qs)) * (fp16_to_f32(x.d) * fp16_to_f32(y.d));
  }
  return sum;
}

}  // namespace lmpack
