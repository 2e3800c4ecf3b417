#include "formats/q4_0.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "core/dtype.h"
#include "formats/legacy_block.h"
#include "formats/q8_0.h"
#include "formats/scale_search.h"

namespace lmpack {

void dequantize_row_q4_0(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ4_0 blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ4_0), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    float* y = out + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * static_cast<float>((blk.qs[j] & 0x0F) - 8);
      y[j + kQK / 2] = d * static_cast<float>((blk.qs[j] >> 4) - 8);
    }
  }
}

void quantize_row_q4_0(void* out, const float* in, int64_t n, const float* importance) {
  const int64_t nb = n / kQK;
  const float sigma2 = importance != nullptr ? row_mean_square(in, n) : 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK;
    BlockQ4_0 blk;
    if (importance == nullptr) {
      const float d = block_signed_absmax(x) / -8;
      const float id = d != 0 ? 1.0f / d : 0.0f;
      blk.d = f32_to_fp16(d);
      for (int j = 0; j < kQK / 2; ++j) {
        // Truncation after +8.5 rounds half up; x * id >= -8 keeps it >= 0.
        const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
        const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + kQK / 2] * id + 8.5f)));
        blk.qs[j] = static_cast<uint8_t>(q0 | q1 << 4);
      }
    } else {
      float w[kQK];
      uint8_t l[kQK];
      importance_weights(w, x, importance + b * kQK, kQK, sigma2);
      blk.d = f32_to_fp16(search_scale_symmetric(kQK, 8, x, w, l));
      for (int j = 0; j < kQK / 2; ++j) blk.qs[j] = static_cast<uint8_t>(l[j] | l[j + kQK / 2] << 4);
    }
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ4_0), &blk, sizeof blk);
  }
}

float dot_q4_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
  const int64_t nb = n / kQK;
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ4_0 x;
    BlockQ8_0 y;
    std::memcpy(&x, static_cast<const uint8_t*>(w) + b * sizeof(BlockQ4_0), sizeof x);
    std::memcpy(&y, static_cast<const uint8_t*>(a) + b * sizeof(BlockQ8_0), sizeof y);
    int s = 0;
    for (int j = 0; j < kQK / 2; ++j)
      s += ((x.qs[j] & 0x0F) - 8) * y.qs[j] + ((x.qs[j] >> 4) - 8) * y.qs[j + kQK / 2];
    sum += static_cast<float>(s) * (fp16_to_f32(x.d) * fp16_to_f32(y.d));
  }
  return sum;
}

void row_grid_q4_0(float* scale, float* offset, const void* row, int64_t n) {
  legacy_row_grid(scale, offset, row, n, sizeof(BlockQ4_0), /*has_min=*/false);
}

void set_row_codes_q4_0(void* row, const int32_t* codes, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* qs = static_cast<uint8_t*>(row) + b * sizeof(BlockQ4_0) + offsetof(BlockQ4_0, qs);
    const int32_t* c = codes + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) qs[j] = static_cast<uint8_t>((c[j] + 8) | (c[j + kQK / 2] + 8) << 4);
  }
}

}  // namespace lmpack
