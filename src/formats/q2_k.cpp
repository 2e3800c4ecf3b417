#include "formats/q2_k.h"

#include <cstring>

#include "core/dtype.h"

namespace lmpack {

void dequantize_row_q2_k(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ2_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ2_K), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    const float dmin = fp16_to_f32(blk.dmin);
    float* y = out + b * kQK_K;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* q = blk.qs + 32 * h;
      for (int p = 0; p < 4; ++p) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = blk.scales[8 * h + 2 * p + half];
          const float dl = d * static_cast<float>(sc & 15);
          const float ml = dmin * static_cast<float>(sc >> 4);
          for (int l = 16 * half; l < 16 * half + 16; ++l)
            y[128 * h + 32 * p + l] = dl * static_cast<float>((q[l] >> (2 * p)) & 3) - ml;
        }
      }
    }
  }
}

}  // namespace lmpack
