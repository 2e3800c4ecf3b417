#include "formats/q4_k.h"

#include <cstring>

#include "core/dtype.h"
#include "formats/k_quant_dots.h"
#include "formats/k_quant_search.h"
#include "formats/q8_k.h"

namespace lmpack {

void dequantize_row_q4_k(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ4_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ4_K), sizeof blk);
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
      for (int l = 0; l < 32; ++l) {
        y[64 * c + l] = d0 * static_cast<float>(q[l] & 15) - m0;
        y[64 * c + 32 + l] = d1 * static_cast<float>(q[l] >> 4) - m1;
      }
    }
  }
}

void quantize_row_q4_k(void* out, const float* in, int64_t n, const float* importance) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ4_K blk;
    uint8_t L[kQK_K];
    k_encode_scale_min_8x32(in + b * kQK_K, importance != nullptr ? importance + b * kQK_K : nullptr, 15, -1.0f,
                            20, blk.scales, &blk.d, &blk.dmin, L);
    // Chunk c of 64 values: low nibbles the first 32, high nibbles the next 32.
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        blk.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ4_K), &blk, sizeof blk);
  }
}

float dot_q4_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  float sum = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; ++j) unpack_scale_min_k4(j, x[b].scales, &sc[j], &mn[j]);
    int32_t msum = 0;
    for (int j = 0; j < 8; ++j) msum += mn[j] * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
    int32_t isum = 0;
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = x[b].qs + 32 * c;
      const int8_t* q8 = y[b].qs + 64 * c;
      int32_t lo = 0, hi = 0;
      for (int l = 0; l < 32; ++l) {
        lo += (q[l] & 15) * q8[l];
        hi += (q[l] >> 4) * q8[32 + l];
      }
      isum += lo * sc[2 * c] + hi * sc[2 * c + 1];
    }
    sum += k_dot_block_term(y[b].d * fp16_to_f32(x[b].d), isum, y[b].d * fp16_to_f32(x[b].dmin), msum);
  }
  return sum;
}

}  // namespace lmpack
