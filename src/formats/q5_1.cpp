#include "formats/q5_1.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "formats/q8_1.h"
#include "formats/scale_search.h"

// No FMA contraction: GGML builds its encoders without it, and the bytes
// must match llama.cpp's on every rounding boundary (formats/scale_search.cpp).
#pragma GCC optimize("fp-contract=off")

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


namespace {

uint32_t load_qh(const uint8_t* qh) {
  return static_cast<uint32_t>(qh[0]) | static_cast<uint32_t>(qh[1]) << 8 | static_cast<uint32_t>(qh[2]) << 16 |
         static_cast<uint32_t>(qh[3]) << 24;
}

// Packs 32 five-bit levels into qs (low nibbles) and qh (fifth bits).
void pack_5bit(uint8_t* qs, uint8_t* qh, const uint8_t* l) {
  uint32_t h = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((l[j] & 0x0F) | (l[j + kQK / 2] & 0x0F) << 4);
    h |= static_cast<uint32_t>(l[j] >> 4 & 1) << j;
    h |= static_cast<uint32_t>(l[j + kQK / 2] >> 4 & 1) << (j + kQK / 2);
  }
  for (int k = 0; k < 4; ++k) qh[k] = static_cast<uint8_t>(h >> (8 * k));
}

}  // namespace

void quantize_row_q5_1(void* out, const float* in, int64_t n, const float* importance) {
  const int64_t nb = n / kQK;
  const float sigma2 = importance != nullptr ? row_mean_square(in, n) : 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK;
    BlockQ5_1 blk;
    uint8_t l[kQK];
    if (importance == nullptr) {
      float min = x[0], max = x[0];
      for (int j = 1; j < kQK; ++j) {
        min = std::min(min, x[j]);
        max = std::max(max, x[j]);
      }
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
    const uint32_t h = load_qh(x.qh);
    int s = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (x.qs[j] & 0x0F) | static_cast<int>((h >> j) & 1) << 4;
      const int hi = (x.qs[j] >> 4) | static_cast<int>((h >> (j + 16)) & 1) << 4;
      s += lo * y.qs[j] + hi * y.qs[j + kQK / 2];
    }
    sum += static_cast<float>(s) * (fp16_to_f32(x.d) * fp16_to_f32(y.d)) + fp16_to_f32(x.m) * fp16_to_f32(y.s);
  }
  return sum;
}

}  // namespace lmpack
