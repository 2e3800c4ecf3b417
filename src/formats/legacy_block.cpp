// Shared per-block steps of the 32-element legacy formats (formats/legacy_block.h).
#include "formats/legacy_block.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "formats/format_common.h"

namespace lmpack {

float block_signed_absmax(const float* x) {
  float amax = 0, max = 0;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void block_min_max(const float* x, float* min, float* max) {
  float lo = x[0], hi = x[0];
  for (int j = 1; j < kQK; ++j) {
    lo = std::min(lo, x[j]);
    hi = std::max(hi, x[j]);
  }
  *min = lo;
  *max = hi;
}

uint32_t load_qh_q5(const uint8_t* qh) {
  return static_cast<uint32_t>(qh[0]) | static_cast<uint32_t>(qh[1]) << 8 | static_cast<uint32_t>(qh[2]) << 16 |
         static_cast<uint32_t>(qh[3]) << 24;
}

void pack_5bit(uint8_t* qs, uint8_t* qh, const uint8_t* l) {
  uint32_t h = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((l[j] & 0x0F) | (l[j + kQK / 2] & 0x0F) << 4);
    h |= static_cast<uint32_t>(l[j] >> 4 & 1) << j;
    h |= static_cast<uint32_t>(l[j + kQK / 2] >> 4 & 1) << (j + kQK / 2);
  }
  for (int k = 0; k < 4; ++k) qh[k] = static_cast<uint8_t>(h >> (8 * k));
}

void unpack_5bit(int* l, const uint8_t* qs, const uint8_t* qh) {
  const uint32_t h = load_qh_q5(qh);
  for (int j = 0; j < kQK / 2; ++j) {
    l[j] = (qs[j] & 0x0F) | static_cast<int>((h >> j) & 1) << 4;
    l[j + kQK / 2] = (qs[j] >> 4) | static_cast<int>((h >> (j + 16)) & 1) << 4;
  }
}

void legacy_row_grid(float* scale, float* offset, const void* row, int64_t n, int64_t block_bytes, bool has_min) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const uint8_t* blk = static_cast<const uint8_t*>(row) + b * block_bytes;
    uint16_t d = 0, m = 0;
    std::memcpy(&d, blk, sizeof d);
    if (has_min) std::memcpy(&m, blk + 2, sizeof m);
    const float scale_b = fp16_to_f32(d), offset_b = has_min ? fp16_to_f32(m) : -0.0f;
    for (int64_t j = 0; j < 32; ++j) {
      scale[b * 32 + j] = scale_b;
      offset[b * 32 + j] = offset_b;
    }
  }
}

}  // namespace lmpack
