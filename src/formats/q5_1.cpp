#include "formats/q5_1.h"

#include <algorithm>
#include <cstring>

#include "core/dtype.h"
#include "formats/legacy_block.h"
#include "formats/q8_1.h"
#include "formats/scale_search.h"

namespace lmpack {

void dequantize_row_q5_1(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_1 blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ5_1), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    const float m = fp16_to_f32(blk.m);
    int l[kQK];
    unpack_5bit(l, blk.qs, blk.qh);
    float* y = out + b * kQK;
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(l[j]) + m;
  }
}

void quantize_row_q5_1(void* out, const float* in, int64_t n, const float* importance) {
  const int64_t nb = n / kQK;
  const float sigma2 = importance != nullptr ? row_mean_square(in, n) : 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK;
    BlockQ5_1 blk;
    uint8_t l[kQK];
    if (importance == nullptr) {
      float min, max;
      block_min_max(x, &min, &max);
      const float d = (max - min) / 31;
      const float id = d != 0 ? 1.0f / d : 0.0f;
      blk.d = f32_to_fp16(d);
      blk.m = f32_to_fp16(min);
      for (int j = 0; j < kQK; ++j)
        l[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(static_cast<uint8_t>((x[j] - min) * id + 0.5f))));
    } else {
      float w[kQK];
      float neg_min;
      importance_weights(w, x, importance + b * kQK, kQK, sigma2);
      blk.d = f32_to_fp16(search_scale_affine(kQK, 31, x, w, l, &neg_min));
      blk.m = f32_to_fp16(-neg_min);
    }
    pack_5bit(blk.qs, blk.qh, l);
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ5_1), &blk, sizeof blk);
  }
}

float dot_q5_1_q8_1_scalar(int64_t n, const void* w, const void* a) {
  const int64_t nb = n / kQK;
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_1 x;
    BlockQ8_1 y;
    std::memcpy(&x, static_cast<const uint8_t*>(w) + b * sizeof(BlockQ5_1), sizeof x);
    std::memcpy(&y, static_cast<const uint8_t*>(a) + b * sizeof(BlockQ8_1), sizeof y);
    int l[kQK];
    unpack_5bit(l, x.qs, x.qh);
    int s = 0;
    for (int j = 0; j < kQK; ++j) s += l[j] * y.qs[j];
    sum += static_cast<float>(s) * (fp16_to_f32(x.d) * fp16_to_f32(y.d)) + fp16_to_f32(x.m) * fp16_to_f32(y.s);
  }
  return sum;
}

void row_grid_q5_1(float* scale, float* offset, const void* row, int64_t n) {
  legacy_row_grid(scale, offset, row, n, sizeof(BlockQ5_1), /*has_min=*/true);
}

void set_row_codes_q5_1(void* row, const int32_t* codes, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_1 blk;
    uint8_t* out = static_cast<uint8_t*>(row) + b * sizeof(BlockQ5_1);
    std::memcpy(&blk, out, sizeof blk);
    uint8_t l[kQK];
    for (int j = 0; j < kQK; ++j) l[j] = static_cast<uint8_t>(codes[b * kQK + j]);
    pack_5bit(blk.qs, blk.qh, l);
    std::memcpy(out, &blk, sizeof blk);
  }
}

}  // namespace lmpack
