#include "formats/q8_0.h"

#include <cstring>

#include "core/dtype.h"

namespace lmpack {

void dequantize_row_q8_0(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ8_0 blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ8_0), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    float* y = out + b * kQK;
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(blk.qs[j]);
  }
}

}  // namespace lmpack
