#include "formats/q2_k.h"

#include <cmath>
#include <cstddef>
#include <cstring>

#include "core/dtype.h"
#include "formats/k_quant_dots.h"
#include "formats/k_quant_search.h"
#include "formats/k_quant_search_x8.h"
#include "formats/q8_k.h"

namespace lmpack {

void dequantize_row_q2_k(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ2_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ2_K), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    const float dmin = fp16_to_f32(blk.dmin);
    float* y = out + b * kQK_K;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* q = blk.qs + 32 * h;
      for (int p = 0; p < 4; ++p) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = blk.scales[8 * h + 2 * p + half];
          const float dl = d * static_cast<float>(sc & 15);
          const float ml = dmin * static_cast<float>(sc >> 4);
          for (int l = 16 * half; l < 16 * half + 16; ++l)
            y[128 * h + 32 * p + l] = dl * static_cast<float>((q[l] >> (2 * p)) & 3) - ml;
        }
      }
    }
  }
}

void quantize_row_q2_k(void* out, const float* in, int64_t n, const float* importance) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK_K;
    BlockQ2_K blk;
    uint8_t L[kQK_K], Ls[16], Lm[16];
    float scales[16], mins[16], weight[kQK_K];
    if (importance == nullptr) {
      float max_scale = 0.0f, max_min = 0.0f;
      for (int l = 0; l < kQK_K; ++l) weight[l] = std::fabs(x[l]);
      for (int h = 0; h < 16; h += kSearchLanes)
        k_search_affine_x8(16, 3, x + 16 * h, weight + 16 * h, L + 16 * h, scales + h, mins + h, -0.5f, 0.1f, 15, true);
      for (int s = 0; s < 16; ++s) {
        if (scales[s] > max_scale) max_scale = scales[s];
        if (mins[s] > max_min) max_min = mins[s];
      }
      const float inv_scale = max_scale > 0.0f ? 15.0f / max_scale : 0.0f;
      const float inv_min = max_min > 0.0f ? 15.0f / max_min : 0.0f;
      for (int s = 0; s < 16; ++s) {
        Ls[s] = static_cast<uint8_t>(k_round(inv_scale * scales[s], 0, 15));
        Lm[s] = static_cast<uint8_t>(k_round(inv_min * mins[s], 0, 15));
      }
      blk.d = f32_to_fp16(max_scale > 0.0f ? max_scale / 15.0f : 0.0f);
      blk.dmin = f32_to_fp16(max_min > 0.0f ? max_min / 15.0f : 0.0f);
    } else {
      const float* qw = importance + b * kQK_K;
      const float sigma2 = k_sum_squares(x, kQK_K) / kQK_K;
      float sw[16];
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
        k_search_affine_x8(16, 3, x + 16 * h, weight + 16 * h, L + 16 * h, scales + h, mins + h, -0.9f, 0.05f, 36, false);
      blk.d = f32_to_fp16(k_search_positive(16, 15, scales, sw, Ls));
      blk.dmin = f32_to_fp16(k_search_positive(16, 15, mins, sw, Lm));
    }
    for (int s = 0; s < 16; ++s) blk.scales[s] = static_cast<uint8_t>(Ls[s] | (Lm[s] << 4));
    // Requantize against the stored scales and mins.
    const float d = fp16_to_f32(blk.d), dmin = fp16_to_f32(blk.dmin);
    for (int s = 0; s < 16; ++s) {
      const float ds = d * static_cast<float>(Ls[s]);
      if (ds == 0.0f) continue;
      const float ms = dmin * static_cast<float>(Lm[s]);
      for (int i = 0; i < 16; ++i) L[16 * s + i] = static_cast<uint8_t>(k_round((x[16 * s + i] + ms) / ds, 0, 3));
    }
    // Element 128h + 32p + l sits in bits 2p of qs[32h + l].
    for (int h = 0; h < 2; ++h) {
      const uint8_t* Lh = L + 128 * h;
      for (int l = 0; l < 32; ++l)
        blk.qs[32 * h + l] =
            static_cast<uint8_t>(Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
    }
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ2_K), &blk, sizeof blk);
  }
}

float dot_q2_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const BlockQ2_K* x = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  float sum = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    int32_t msum = 0;
    for (int s = 0; s < 16; ++s) msum += (x[b].scales[s] >> 4) * y[b].bsums[s];
    int32_t isum = 0;
    for (int h = 0; h < 2; ++h) {
      for (int p = 0; p < 4; ++p) {
        for (int half = 0; half < 2; ++half) {
          const int s = 8 * h + 2 * p + half;
          const int8_t* q8 = y[b].qs + 128 * h + 32 * p + 16 * half;
          const uint8_t* q = x[b].qs + 32 * h + 16 * half;
          int32_t acc = 0;
          for (int i = 0; i < 16; ++i) acc += ((q[i] >> (2 * p)) & 3) * q8[i];
          isum += acc * (x[b].scales[s] & 15);
        }
      }
    }
    sum += k_dot_block_term(y[b].d * fp16_to_f32(x[b].d), isum, y[b].d * fp16_to_f32(x[b].dmin), msum);
  }
  return sum;
}

void row_grid_q2_k(float* scale, float* offset, const void* row, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ2_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(row) + b * sizeof(BlockQ2_K), sizeof blk);
    const float d = fp16_to_f32(blk.d), dmin = fp16_to_f32(blk.dmin);
    for (int s = 0; s < 16; ++s) {
      const float dl = d * static_cast<float>(blk.scales[s] & 15);
      const float ml = dmin * static_cast<float>(blk.scales[s] >> 4);
      for (int i = 0; i < 16; ++i) {
        scale[b * kQK_K + 16 * s + i] = dl;
        offset[b * kQK_K + 16 * s + i] = -ml;
      }
    }
  }
}

void set_row_codes_q2_k(void* row, const int32_t* codes, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* qs = static_cast<uint8_t*>(row) + b * sizeof(BlockQ2_K) + offsetof(BlockQ2_K, qs);
    const int32_t* L = codes + b * kQK_K;
    // Element 128h + 32p + l sits in bits 2p of qs[32h + l].
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 32; ++l) {
        const int32_t* Lh = L + 128 * h;
        qs[32 * h + l] = static_cast<uint8_t>(Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
      }
  }
}

}  // namespace lmpack
