#include "formats/q5_1.h"

#include <cstring>

#include "core/dtype.h"

namespace lmpack {

void dequantize_row_q5_1(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_1 blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ5_1), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    const float m = fp16_to_f32(blk.m);
    const uint32_t h = static_cast<uint32_t>(blk.qh[0]) | static_cast<uint32_t>(blk.qh[1]) << 8 |
                       static_cast<uint32_t>(blk.qh[2]) << 16 | static_cast<uint32_t>(blk.qh[3]) << 24;
    float* y = out + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (blk.qs[j] & 0x0F) | static_cast<int>((h >> j) & 1) << 4;
      const int hi = (blk.qs[j] >> 4) | static_cast<int>((h >> (j + 16)) & 1) << 4;
      y[j] = d * static_cast<float>(lo) + m;
      y[j + kQK / 2] = d * static_cast<float>(hi) + m;
    }
  }
}

}  // namespace lmpack
