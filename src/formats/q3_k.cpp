#include "formats/q3_k.h"

#include <cstring>

#include "core/dtype.h"

namespace lmpack {

void unpack_scales_q3_k(int8_t* out, const uint8_t* scales) {
  for (int s = 0; s < 16; ++s) {
    const int low = s < 8 ? scales[s] & 15 : scales[s - 8] >> 4;
    const int high = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
    out[s] = static_cast<int8_t>((low | high << 4) - 32);
  }
}

void dequantize_row_q3_k(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ3_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ3_K), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    int8_t sc[16];
    unpack_scales_q3_k(sc, blk.scales);
    float* y = out + b * kQK_K;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* q = blk.qs + 32 * h;
      for (int p = 0; p < 4; ++p) {
        const uint8_t hbit = static_cast<uint8_t>(1u << (4 * h + p));
        for (int half = 0; half < 2; ++half) {
          const float dl = d * static_cast<float>(sc[8 * h + 2 * p + half]);
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int v = ((q[l] >> (2 * p)) & 3) - ((blk.hmask[l] & hbit) ? 0 : 4);
            y[128 * h + 32 * p + l] = dl * static_cast<float>(v);
          }
        }
      }
    }
  }
}

}  // namespace lmpack
