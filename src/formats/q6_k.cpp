#include "formats/q6_k.h"

#include <cmath>
#include <cstring>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "formats/k_quant_dots.h"
#include "formats/k_quant_search.h"
#include "formats/k_quant_search_x8.h"
#include "formats/q8_k.h"

namespace lmpack {

void dequantize_row_q6_k_scalar(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ6_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ6_K), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    float* y = out + b * kQK_K;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = blk.ql + 64 * h;
      const uint8_t* qh = blk.qh + 32 * h;
      const int8_t* sc = blk.scales + 8 * h;
      float* yh = y + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int q0 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
        const int q1 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
        const int q2 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
        const int q3 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
        const int s = l / 16;
        yh[l] = d * static_cast<float>(sc[s]) * static_cast<float>(q0);
        yh[l + 32] = d * static_cast<float>(sc[s + 2]) * static_cast<float>(q1);
        yh[l + 64] = d * static_cast<float>(sc[s + 4]) * static_cast<float>(q2);
        yh[l + 96] = d * static_cast<float>(sc[s + 6]) * static_cast<float>(q3);
      }
    }
  }
}

void quantize_row_q6_k(void* out, const float* in, int64_t n, const float* importance) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK_K;
    const float* qw = importance != nullptr ? importance + b * kQK_K : nullptr;
    BlockQ6_K blk;
    std::memset(&blk, 0, sizeof blk);
    int8_t L[kQK_K];
    float scales[16];
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int h = 0; h < 16; h += kSearchLanes)
      k_search_symmetric_x8(16, 32, x + 16 * h, qw != nullptr ? qw + 16 * h : nullptr, L + 16 * h, scales + h);
    for (int s = 0; s < 16; ++s) {
      if (std::fabs(scales[s]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    if (max_abs_scale >= kGroupMaxEps) {
      const float iscale = -128.0f / max_scale;
      blk.d = f32_to_fp16(1.0f / iscale);
      for (int s = 0; s < 16; ++s) blk.scales[s] = static_cast<int8_t>(k_round(iscale * scales[s], -128, 127));
      const float d = fp16_to_f32(blk.d);
      for (int s = 0; s < 16; ++s) {
        const float ds = d * static_cast<float>(blk.scales[s]);
        if (ds == 0.0f) continue;
        for (int i = 0; i < 16; ++i) L[16 * s + i] = static_cast<int8_t>(k_round(x[16 * s + i] / ds, -32, 31) + 32);
      }
      for (int h = 0; h < 2; ++h) {
        const int8_t* Lh = L + 128 * h;
        for (int l = 0; l < 32; ++l) {
          blk.ql[64 * h + l] = static_cast<uint8_t>((Lh[l] & 15) | ((Lh[l + 64] & 15) << 4));
          blk.ql[64 * h + l + 32] = static_cast<uint8_t>((Lh[l + 32] & 15) | ((Lh[l + 96] & 15) << 4));
          blk.qh[32 * h + l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                                    ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
        }
      }
    }
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ6_K), &blk, sizeof blk);
  }
}

float dot_q6_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  float sum = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    int8_t q[kQK_K];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const uint8_t* qh = x[b].qh + 32 * h;
      int8_t* qq = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        qq[l] = static_cast<int8_t>(((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32);
        qq[l + 32] = static_cast<int8_t>(((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32);
        qq[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        qq[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int32_t isum = 0;
    for (int s = 0; s < 16; ++s) {
      int32_t p = 0;
      for (int i = 0; i < 16; ++i) p += q[16 * s + i] * y[b].qs[16 * s + i];
      isum += p * x[b].scales[s];
    }
    sum += k_dot_block_term(y[b].d * fp16_to_f32(x[b].d), isum, 0.0f, 0);
  }
  return sum;
}

void row_grid_q6_k(float* scale, float* offset, const void* row, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ6_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(row) + b * sizeof(BlockQ6_K), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    grid_symmetric_16x16(scale + b * kQK_K, offset + b * kQK_K, d, blk.scales);
  }
}

void set_row_codes_q6_k(void* row, const int32_t* codes, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ6_K blk;
    uint8_t* out = static_cast<uint8_t*>(row) + b * sizeof(BlockQ6_K);
    std::memcpy(&blk, out, sizeof blk);
    for (int h = 0; h < 2; ++h) {
      int L[128];  // levels 0..63
      for (int i = 0; i < 128; ++i) L[i] = codes[b * kQK_K + 128 * h + i] + 32;
      for (int l = 0; l < 32; ++l) {
        blk.ql[64 * h + l] = static_cast<uint8_t>((L[l] & 15) | ((L[l + 64] & 15) << 4));
        blk.ql[64 * h + l + 32] = static_cast<uint8_t>((L[l + 32] & 15) | ((L[l + 96] & 15) << 4));
        blk.qh[32 * h + l] = static_cast<uint8_t>((L[l] >> 4) | ((L[l + 32] >> 4) << 2) | ((L[l + 64] >> 4) << 4) |
                                                  ((L[l + 96] >> 4) << 6));
      }
    }
    std::memcpy(out, &blk, sizeof blk);
  }
}

void dequantize_row_q6_k(float* out, const void* in, int64_t n) {
  static const auto fn = active_isa() >= Isa::kAvx2 ? &dequantize_row_q6_k_avx2 : &dequantize_row_q6_k_scalar;
  fn(out, in, n);
}

}  // namespace lmpack
