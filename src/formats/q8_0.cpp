#include "formats/q8_0.h"
#include "formats/legacy_block.h"

#include <cmath>
#include <cstddef>
#include <cstring>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "formats/dots_x86.h"
#include "formats/q8_block.h"
#include "formats/quantize_q8_rows.h"

namespace lmpack {

float quantize_block_q8_scalar(int8_t* qs, const float* x, int* sum) {
  float amax = 0;
  for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  int s = 0;
  for (int j = 0; j < kQK; ++j) {
    qs[j] = static_cast<int8_t>(std::round(x[j] * id));
    s += qs[j];
  }
  *sum = s;
  return d;
}

void dequantize_block_q8(float* y, float d, const int8_t* qs) {
  for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(qs[j]);
}

int dot_block_q8_q8(const int8_t* x, const int8_t* y) {
  int s = 0;
  for (int j = 0; j < kQK; ++j) s += x[j] * y[j];
  return s;
}

void dequantize_row_q8_0_scalar(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ8_0 blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockQ8_0), sizeof blk);
    dequantize_block_q8(out + b * kQK, fp16_to_f32(blk.d), blk.qs);
  }
}

void quantize_row_q8_0_scalar(void* out, const float* in, int64_t n) {
  quantize_rows_q8_0<quantize_block_q8_scalar>(out, in, n);
}

void quantize_row_q8_0(void* out, const float* in, int64_t n, const float* /*importance*/) {
  static const auto fn = [] {
    switch (active_isa()) {
      case Isa::kAvx512: return &quantize_row_q8_0_avx512;
      case Isa::kAvx2: return &quantize_row_q8_0_avx2;
      default: return &quantize_row_q8_0_scalar;
    }
  }();
  fn(out, in, n);
}

float dot_q8_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
  const int64_t nb = n / kQK;
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) {
    BlockQ8_0 x, y;
    std::memcpy(&x, static_cast<const uint8_t*>(w) + b * sizeof(BlockQ8_0), sizeof x);
    std::memcpy(&y, static_cast<const uint8_t*>(a) + b * sizeof(BlockQ8_0), sizeof y);
    sum += static_cast<float>(dot_block_q8_q8(x.qs, y.qs)) * (fp16_to_f32(x.d) * fp16_to_f32(y.d));
  }
  return sum;
}

void row_grid_q8_0(float* scale, float* offset, const void* row, int64_t n) {
  legacy_row_grid(scale, offset, row, n, sizeof(BlockQ8_0), /*has_min=*/false);
}

void set_row_codes_q8_0(void* row, const int32_t* codes, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* qs = static_cast<uint8_t*>(row) + b * sizeof(BlockQ8_0) + offsetof(BlockQ8_0, qs);
    for (int j = 0; j < kQK; ++j) qs[j] = static_cast<uint8_t>(static_cast<int8_t>(codes[b * kQK + j]));
  }
}

void dequantize_row_q8_0(float* out, const void* in, int64_t n) {
  static const auto fn = active_isa() >= Isa::kAvx2 ? &dequantize_row_q8_0_avx2 : &dequantize_row_q8_0_scalar;
  fn(out, in, n);
}

}  // namespace lmpack
