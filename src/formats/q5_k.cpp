#include "formats/q5_k.h"

#include <cstring>

#include "core/dtype.h"
#include "formats/k4_block.h"
#include "formats/k_quant_dots.h"
#include "formats/k_quant_search.h"
#include "formats/q8_k.h"

namespace lmpack {

namespace {

// The 256 levels 0..31 in element order. Chunk c of 64 values: low / high
// nibbles as in Q4_K, fifth bits in bits 2c (first 32) and 2c + 1 (next 32)
// of qh[l].
void levels_q5_k(const BlockQ5_K& blk, uint8_t* L) {
  for (int c = 0; c < 4; ++c) {
    const uint8_t* q = blk.qs + 32 * c;
    const uint8_t u0 = static_cast<uint8_t>(1u << (2 * c));
    const uint8_t u1 = static_cast<uint8_t>(1u << (2 * c + 1));
    for (int l = 0; l < 32; ++l) {
      L[64 * c + l] = static_cast<uint8_t>((q[l] & 15) + ((blk.qh[l] & u0) ? 16 : 0));
      L[64 * c + 32 + l] = static_cast<uint8_t>((q[l] >> 4) + ((blk.qh[l] & u1) ? 16 : 0));
    }
  }
}

}  // namespace

void dequantize_row_q5_k(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ5_K), sizeof blk);
    uint8_t L[kQK_K];
    levels_q5_k(blk, L);
    dequantize_k4_levels(out + b * kQK_K, blk.scales, fp16_to_f32(blk.d), fp16_to_f32(blk.dmin), L);
  }
}

void quantize_row_q5_k(void* out, const float* in, int64_t n, const float* importance) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_K blk;
    uint8_t L[kQK_K];
    k_encode_scale_min_8x32(in + b * kQK_K, importance != nullptr ? importance + b * kQK_K : nullptr, 31, -0.5f,
                            15, blk.scales, &blk.d, &blk.dmin, L);
    std::memset(blk.qh, 0, sizeof blk.qh);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        blk.qs[32 * c + l] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
        blk.qh[l] = static_cast<uint8_t>(blk.qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockQ5_K), &blk, sizeof blk);
  }
}

float dot_q5_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const BlockQ5_K* x = static_cast<const BlockQ5_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  float sum = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t L[kQK_K];
    levels_q5_k(x[b], L);
    sum += k4_levels_dot_q8_k(L, x[b].scales, x[b].d, x[b].dmin, y[b]);
  }
  return sum;
}

void row_grid_q5_k(float* scale, float* offset, const void* row, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_K blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(row) + b * sizeof(BlockQ5_K), sizeof blk);
    grid_k4_block(scale + b * kQK_K, offset + b * kQK_K, blk.scales, fp16_to_f32(blk.d), fp16_to_f32(blk.dmin));
  }
}

void set_row_codes_q5_k(void* row, const int32_t* codes, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ5_K blk;
    uint8_t* out = static_cast<uint8_t*>(row) + b * sizeof(BlockQ5_K);
    std::memcpy(&blk, out, sizeof blk);
    const int32_t* L = codes + b * kQK_K;
    std::memset(blk.qh, 0, sizeof blk.qh);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        blk.qs[32 * c + l] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
        blk.qh[l] = static_cast<uint8_t>(blk.qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
    std::memcpy(out, &blk, sizeof blk);
  }
}

}  // namespace lmpack
