#include "formats/q8_k.h"

#include <cmath>
#include <cstring>

#include "formats/k_quant_dots.h"
#include "formats/k_quant_search.h"

namespace lmpack {

float k_dot_block_term(float d, int32_t isum, float dmin, int32_t msum) {
  return d * static_cast<float>(isum) - dmin * static_cast<float>(msum);
}

void quantize_row_q8_k(void* out, const float* in, int64_t n, const float* /*importance*/) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(out);
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK_K;
    BlockQ8_K& blk = y[b];
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < kQK_K; ++i) {
      const float ax = std::fabs(x[i]);
      if (ax > amax) {
        amax = ax;
        max = x[i];
      }
    }
    if (!(amax > 0.0f) || !std::isfinite(amax)) {
      // All zero (or not finite, which no scale can represent): zero block.
      std::memset(&blk, 0, sizeof blk);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int i = 0; i < kQK_K; ++i) blk.qs[i] = static_cast<int8_t>(k_round(iscale * x[i], -127, 127));
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += blk.qs[16 * j + i];
      blk.bsums[j] = static_cast<int16_t>(sum);
    }
    blk.d = 1.0f / iscale;
  }
}

void dequantize_row_q8_k(float* out, const void* in, int64_t n) {
  const BlockQ8_K* x = static_cast<const BlockQ8_K*>(in);
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b)
    for (int i = 0; i < kQK_K; ++i) out[b * kQK_K + i] = x[b].d * static_cast<float>(x[b].qs[i]);
}

float dot_q8_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const BlockQ8_K* x = static_cast<const BlockQ8_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  float sum = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    int32_t isum = 0;
    for (int i = 0; i < kQK_K; ++i) isum += static_cast<int32_t>(x[b].qs[i]) * y[b].qs[i];
    sum += x[b].d * y[b].d * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace lmpack
