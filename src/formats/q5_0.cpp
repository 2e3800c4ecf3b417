#include "formats/q5_0.h"

#include <algorithm>
#include <cstring>

#include "core/dtype.h"
#include "formats/legacy_block.h"
#include "formats/q8_0.h"
#include "formats/scale_search.h"

namespace lmpack {

void dequantize_row_q5_0(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_0 blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ5_0), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    int l[kQK];
    unpack_5bit(l, blk.qs, blk.qh);
    float* y = out + b * kQK;
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(l[j] - 16);
  }
}

void quantize_row_q5_0(void* out, const float* in, int64_t n, const float* importance) {
  const int64_t nb = n / kQK;
  const float sigma2 = importance != nullptr ? row_mean_square(in, n) : 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK;
    BlockQ5_0 blk;
    uint8_t l[kQK];
    if (importance == nullptr) {
      const float d = block_signed_absmax(x) / -16;
      const float id = d != 0 ? 1.0f / d : 0.0f;
      blk.d = f32_to_fp16(d);
      for (int j = 0; j < kQK; ++j)
        l[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f))));
    } else {
      float w[kQK];
      importance_weights(w, x, importance + b * kQK, kQK, sigma2);
      blk.d = f32_to_fp16(search_scale_symmetric(kQK, 16, x, w, l));
    }
    pack_5bit(blk.qs, blk.qh, l);
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ5_0), &blk, sizeof blk);
  }
}

float dot_q5_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
  const int64_t nb = n / kQK;
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_0 x;
    BlockQ8_0 y;
    std::memcpy(&x, static_cast<const uint8_t*>(w) + b * sizeof(BlockQ5_0), sizeof x);
    std::memcpy(&y, static_cast<const uint8_t*>(a) + b * sizeof(BlockQ8_0), sizeof y);
    int l[kQK];
    unpack_5bit(l, x.qs, x.qh);
    int s = 0;
    for (int j = 0; j < kQK; ++j) s += (l[j] - 16) * y.qs[j];
    sum += static_cast<float>(s) * (fp16_to_f32(x.d) * fp16_to_f32(y.d));
  }
  return sum;
}

void row_grid_q5_0(float* scale, float* offset, const void* row, int64_t n) {
  legacy_row_grid(scale, offset, row, n, sizeof(BlockQ5_0), /*has_min=*/false);
}

void set_row_codes_q5_0(void* row, const int32_t* codes, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_0 blk;
    uint8_t* out = static_cast<uint8_t*>(row) + b * sizeof(BlockQ5_0);
    std::memcpy(&blk, out, sizeof blk);
    uint8_t l[kQK];
    for (int j = 0; j < kQK; ++j) l[j] = static_cast<uint8_t>(codes[b * kQK + j] + 16);
    pack_5bit(blk.qs, blk.qh, l);
    std::memcpy(out, &blk, sizeof blk);
  }
}

}  // namespace lmpack
