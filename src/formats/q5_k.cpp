#include "formats/q5_k.h"

#include <cstring>

#include "core/dtype.h"

namespace lmpack {

void dequantize_row_q5_k(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ5_K), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    const float dmin = fp16_to_f32(blk.dmin);
    float* y = out + b * kQK_K;
    for (int c = 0; c < 4; ++c) {
      uint8_t sc0, mn0, sc1, mn1;
      unpack_scale_min_k4(2 * c, blk.scales, &sc0, &mn0);
      unpack_scale_min_k4(2 * c + 1, blk.scales, &sc1, &mn1);
      const float d0 = d * sc0, m0 = dmin * mn0;
      const float d1 = d * sc1, m1 = dmin * mn1;
      const uint8_t* q = blk.qs + 32 * c;
      const uint8_t u0 = static_cast<uint8_t>(1u << (2 * c));
      const uint8_t u1 = static_cast<uint8_t>(1u << (2 * c + 1));
      for (int l = 0; l < 32; ++l) {
        const int lo = (q[l] & 15) + ((blk.qh[l] & u0) ? 16 : 0);
        const int hi = (q[l] >> 4) + ((blk.qh[l] & u1) ? 16 : 0);
        y[64 * c + l] = d0 * static_cast<float>(lo) - m0;
        y[64 * c + 32 + l] = d1 * static_cast<float>(hi) - m1;
      }
    }
  }
}

}  // namespace lmpack
