#include "formats/q6_k.h"

#include <cstring>

#include "core/dtype.h"

namespace lmpack {

void dequantize_row_q6_k(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ6_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ6_K), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    float* y = out + b * kQK_K;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = blk.ql + 64 * h;
      const uint8_t* qh = blk.qh + 32 * h;
      const int8_t* sc = blk.scales + 8 * h;
      float* yh = y + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int q0 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
        const int q1 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
        const int q2 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
        const int q3 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
        const int s = l / 16;
        yh[l] = d * static_cast<float>(sc[s]) * static_cast<float>(q0);
        yh[l + 32] = d * static_cast<float>(sc[s + 2]) * static_cast<float>(q1);
        yh[l + 64] = d * static_cast<float>(sc[s + 4]) * static_cast<float>(q2);
        yh[l + 96] = d * static_cast<float>(sc[s + 6]) * static_cast<float>(q3);
      }
    }
  }
}

}  // namespace lmpack
