#include "formats/q4_k.h"

#include <cstddef>
#include <cstring>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "formats/k4_block.h"
#include "formats/k_quant_dots.h"
#include "formats/k_quant_search.h"
#include "formats/q8_k.h"

namespace lmpack {

void dequantize_k4_levels(float* y, const uint8_t* scales, float d, float dmin, const uint8_t* levels) {
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, mn;
    unpack_scale_min_k4(s, scales, &sc, &mn);
    const float ds = d * sc, ms = dmin * mn;
    for (int l = 0; l < 32; ++l) y[32 * s + l] = ds * static_cast<float>(levels[32 * s + l]) - ms;
  }
}

float k4_levels_dot_q8_k(const uint8_t* levels, const uint8_t* scales, uint16_t d, uint16_t dmin, const BlockQ8_K& a) {
  uint8_t sc[8], mn[8];
  for (int j = 0; j < 8; ++j) unpack_scale_min_k4(j, scales, &sc[j], &mn[j]);
  int32_t msum = 0;
  for (int j = 0; j < 8; ++j) msum += mn[j] * (a.bsums[2 * j] + a.bsums[2 * j + 1]);
  int32_t isum = 0;
  for (int s = 0; s < 8; ++s) {
    int32_t t = 0;
    for (int l = 0; l < 32; ++l) t += levels[32 * s + l] * a.qs[32 * s + l];
    isum += t * sc[s];
  }
  return k_dot_block_term(a.d * fp16_to_f32(d), isum, a.d * fp16_to_f32(dmin), msum);
}

namespace {

// The 256 levels 0..15 in element order. Chunk c of 64 values: low nibbles
// the first 32, high nibbles the next 32.
void levels_q4_k(const BlockQ4_K& blk, uint8_t* L) {
  for (int c = 0; c < 4; ++c) {
    const uint8_t* q = blk.qs + 32 * c;
    for (int l = 0; l < 32; ++l) {
      L[64 * c + l] = q[l] & 15;
      L[64 * c + 32 + l] = q[l] >> 4;
    }
  }
}

}  // namespace

void dequantize_row_q4_k_scalar(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ4_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ4_K), sizeof blk);
    uint8_t L[kQK_K];
    levels_q4_k(blk, L);
    dequantize_k4_levels(out + b * kQK_K, blk.scales, fp16_to_f32(blk.d), fp16_to_f32(blk.dmin), L);
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
    uint8_t L[kQK_K];
    levels_q4_k(x[b], L);
    sum += k4_levels_dot_q8_k(L, x[b].scales, x[b].d, x[b].dmin, y[b]);
  }
  return sum;
}

void grid_k4_block(float* scale, float* offset, const uint8_t* scales, float d, float dmin) {
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, mn;
    unpack_scale_min_k4(s, scales, &sc, &mn);
    const float ds = d * sc, ms = dmin * mn;
    for (int l = 0; l < 32; ++l) {
      scale[32 * s + l] = ds;
      offset[32 * s + l] = -ms;
    }
  }
}

void row_grid_q4_k(float* scale, float* offset, const void* row, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ4_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(row) + b * sizeof(BlockQ4_K), sizeof blk);
    grid_k4_block(scale + b * kQK_K, offset + b * kQK_K, blk.scales, fp16_to_f32(blk.d), fp16_to_f32(blk.dmin));
  }
}

void set_row_codes_q4_k(void* row, const int32_t* codes, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* qs = static_cast<uint8_t*>(row) + b * sizeof(BlockQ4_K) + offsetof(BlockQ4_K, qs);
    const int32_t* L = codes + b * kQK_K;
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
  }
}

void dequantize_row_q4_k(float* out, const void* in, int64_t n) {
  static const auto fn = active_isa() >= Isa::kAvx2 ? &dequantize_row_q4_k_avx2 : &dequantize_row_q4_k_scalar;
  fn(out, in, n);
}

}  // namespace lmpack
