#include "formats/q3_k.h"

#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "formats/k_quant_dots.h"
#include "formats/k_quant_search.h"
#include "formats/k_quant_search_x8.h"
#include "formats/q8_k.h"

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

void pack_scales_q3_k(uint8_t* scales, const uint8_t* S) {
  std::memset(scales, 0, 12);
  for (int s = 0; s < 16; ++s) {
    const int v = S[s] & 63;
    if (s < 8) scales[s] = static_cast<uint8_t>(scales[s] | (v & 15));
    else scales[s - 8] = static_cast<uint8_t>(scales[s - 8] | ((v & 15) << 4));
    scales[8 + s % 4] = static_cast<uint8_t>(scales[8 + s % 4] | ((v >> 4) << (2 * (s / 4))));
  }
}

void quantize_row_q3_k(void* out, const float* in, int64_t n, const float* importance) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK_K;
    BlockQ3_K blk;
    int8_t L[kQK_K];
    float scales[16];
    uint8_t S[16];
    float d_block = 0.0f;
    if (importance == nullptr) {
      float max_scale = 0.0f, amax = 0.0f;
      for (int h = 0; h < 16; h += kSearchLanes) k_search_symmetric_refine_x8(16, 4, x + 16 * h, L + 16 * h, scales + h);
      for (int s = 0; s < 16; ++s) {
        if (std::fabs(scales[s]) > amax) {
          amax = std::fabs(scales[s]);
          max_scale = scales[s];
        }
      }
      if (max_scale != 0.0f) {
        const float iscale = -32.0f / max_scale;
        for (int s = 0; s < 16; ++s) S[s] = static_cast<uint8_t>(k_round(iscale * scales[s], -32, 31) + 32);
        d_block = 1.0f / iscale;
      } else {
        for (int s = 0; s < 16; ++s) S[s] = 32;  // scale 0
      }
    } else {
      const float* qw = importance + b * kQK_K;
      const float sigma2 = 2.0f * k_sum_squares(x, kQK_K) / kQK_K;
      float sw[16], weight[kQK_K];
      for (int s = 0; s < 16; ++s) {
        float sumw = 0.0f;
        for (int l = 0; l < 16; ++l) {
          const float v = x[16 * s + l];
          weight[16 * s + l] = qw[16 * s + l] * std::sqrt(sigma2 + v * v);
          sumw += weight[16 * s + l];
        }
        sw[s] = sumw;
      }
      for (int h = 0; h < 16; h += kSearchLanes)
        k_search_symmetric_x8(16, 4, x + 16 * h, weight + 16 * h, L + 16 * h, scales + h);
      int8_t Ls[16];
      d_block = k_search_symmetric(16, 32, scales, sw, Ls);
      for (int s = 0; s < 16; ++s) S[s] = static_cast<uint8_t>(Ls[s]);
    }
    pack_scales_q3_k(blk.scales, S);
    blk.d = f32_to_fp16(d_block);
    // Requantize against the stored scales: levels -4..3 kept as 0..7.
    const float d = fp16_to_f32(blk.d);
    for (int s = 0; s < 16; ++s) {
      const float ds = d * static_cast<float>(static_cast<int>(S[s]) - 32);
      if (ds == 0.0f) continue;
      for (int i = 0; i < 16; ++i) L[16 * s + i] = static_cast<int8_t>(k_round(x[16 * s + i] / ds, -4, 3) + 4);
    }
    // Element 128h + 32p + l: low bits at qs[32h + l] bits 2p, high bit at
    // hmask[l] bit 4h + p.
    std::memset(blk.hmask, 0, sizeof blk.hmask);
    std::memset(blk.qs, 0, sizeof blk.qs);
    for (int j = 0; j < kQK_K; ++j) {
      const int h = j / 128, p = (j / 32) % 4, l = j % 32;
      const int v = L[j] & 7;
      blk.qs[32 * h + l] = static_cast<uint8_t>(blk.qs[32 * h + l] | ((v & 3) << (2 * p)));
      if (v > 3) blk.hmask[l] = static_cast<uint8_t>(blk.hmask[l] | (1 << (j / 32)));
    }
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ3_K), &blk, sizeof blk);
  }
}

float dot_q3_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const BlockQ3_K* x = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  float sum = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    int8_t sc[16];
    unpack_scales_q3_k(sc, x[b].scales);
    int8_t q[kQK_K];
    for (int j = 0; j < kQK_K; ++j) {
      const int h = j / 128, p = (j / 32) % 4, l = j % 32;
      const int low = (x[b].qs[32 * h + l] >> (2 * p)) & 3;
      const int high = (x[b].hmask[l] >> (j / 32)) & 1;
      q[j] = static_cast<int8_t>(low + 4 * high - 4);
    }
    int32_t isum = 0;
    for (int s = 0; s < 16; ++s) {
      int32_t p = 0;
      for (int i = 0; i < 16; ++i) p += q[16 * s + i] * y[b].qs[16 * s + i];
      isum += p * sc[s];
    }
    sum += k_dot_block_term(y[b].d * fp16_to_f32(x[b].d), isum, 0.0f, 0);
  }
  return sum;
}

void row_grid_q3_k(float* scale, float* offset, const void* row, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ3_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(row) + b * sizeof(BlockQ3_K), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    int8_t sc[16];
    unpack_scales_q3_k(sc, blk.scales);
    grid_symmetric_16x16(scale + b * kQK_K, offset + b * kQK_K, d, sc);
  }
}

void set_row_codes_q3_k(void* row, const int32_t* codes, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ3_K blk;
    uint8_t* out = static_cast<uint8_t*>(row) + b * sizeof(BlockQ3_K);
    std::memcpy(&blk, out, sizeof blk);
    // Level v + 4 (0..7): low bits at qs[32h + l] bits 2p, high bit at
    // hmask[l] bit 4h + p, for element 128h + 32p + l.
    std::memset(blk.hmask, 0, sizeof blk.hmask);
    std::memset(blk.qs, 0, sizeof blk.qs);
    for (int j = 0; j < kQK_K; ++j) {
      const int h = j / 128, p = (j / 32) % 4, l = j % 32;
      const int v = codes[b * kQK_K + j] + 4;
      blk.qs[32 * h + l] = static_cast<uint8_t>(blk.qs[32 * h + l] | ((v & 3) << (2 * p)));
      if (v > 3) blk.hmask[l] = static_cast<uint8_t>(blk.hmask[l] | (1 << (j / 32)));
    }
    std::memcpy(out, &blk, sizeof blk);
  }
}

}  // namespace lmpack
