#include "formats/q4_1.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "core/dtype.h"
#include "formats/legacy_block.h"
#include "formats/q8_1.h"
#include "formats/scale_search.h"

namespace lmpack {

void dequantize_row_q4_1(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ4_1 blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ4_1), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    const float m = fp16_to_f32(blk.m);
    float* y = out + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * static_cast<float>(blk.qs[j] & 0x0F) + m;
      y[j + kQK / 2] = d * static_cast<float>(blk.qs[j] >> 4) + m;
    }
  }
}

void quantize_row_q4_1(void* out, const float* in, int64_t n, const float* importance) {
  const int64_t nb = n / kQK;
  const float sigma2 = importance != nullptr ? row_mean_square(in, n) : 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK;
    BlockQ4_1 blk;
    if (importance == nullptr) {
      float min, max;
      block_min_max(x, &min, &max);
      const float d = (max - min) / 15;
      const float id = d != 0 ? 1.0f / d : 0.0f;
      blk.d = f32_to_fp16(d);
      blk.m = f32_to_fp16(min);
      for (int j = 0; j < kQK / 2; ++j) {
        const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>((x[j] - min) * id + 0.5f)));
        const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>((x[j + kQK / 2] - min) * id + 0.5f)));
        blk.qs[j] = static_cast<uint8_t>(q0 | q1 << 4);
      }
    } else {
      float w[kQK];
      uint8_t l[kQK];
      float neg_min;
      importance_weights(w, x, importance + b * kQK, kQK, sigma2);
      blk.d = f32_to_fp16(search_scale_affine(kQK, 15, x, w, l, &neg_min));
      blk.m = f32_to_fp16(-neg_min);
      for (int j = 0; j < kQK / 2; ++j) blk.qs[j] = static_cast<uint8_t>(l[j] | l[j + kQK / 2] << 4);
    }
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ4_1), &blk, sizeof blk);
  }
}

float dot_q4_1_q8_1_scalar(int64_t n, const void* w, const void* a) {
  const int64_t nb = n / kQK;
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ4_1 x;
    BlockQ8_1 y;
    std::memcpy(&x, static_cast<const uint8_t*>(w) + b * sizeof(BlockQ4_1), sizeof x);
    std::memcpy(&y, static_cast<const uint8_t*>(a) + b * sizeof(BlockQ8_1), sizeof y);
    int s = 0;
    for (int j = 0; j < kQK / 2; ++j) s += (x.qs[j] & 0x0F) * y.qs[j] + (x.qs[j] >> 4) * y.qs[j + kQK / 2];
    sum += static_cast<float>(s) * (fp16_to_f32(x.d) * fp16_to_f32(y.d)) + fp16_to_f32(x.m) * fp16_to_f32(y.s);
  }
  return sum;
}

void row_grid_q4_1(float* scale, float* offset, const void* row, int64_t n) {
  legacy_row_grid(scale, offset, row, n, sizeof(BlockQ4_1), /*has_min=*/true);
}

void set_row_codes_q4_1(void* row, const int32_t* codes, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* qs = static_cast<uint8_t*>(row) + b * sizeof(BlockQ4_1) + offsetof(BlockQ4_1, qs);
    const int32_t* c = codes + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) qs[j] = static_cast<uint8_t>((c[j]) | (c[j + kQK / 2]) << 4);
  }
}

}  // namespace lmpack
