#include "formats/iq4_nl.h"

#include <cstring>

#include "core/dtype.h"
#include "formats/q8_0.h"
#include "formats/scale_search.h"

namespace lmpack {

void dequantize_row_iq4_nl(float* out, const void* in, int64_t n) {
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    BlockIq4Nl blk;
    std::memcpy(&blk, static_cast<const uint8_t*>(in) + b * sizeof(BlockIq4Nl), sizeof blk);
    const float d = fp16_to_f32(blk.d);
    float* y = out + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * static_cast<float>(kIq4nlValues[blk.qs[j] & 0x0F]);
      y[j + kQK / 2] = d * static_cast<float>(kIq4nlValues[blk.qs[j] >> 4]);
    }
  }
}

void quantize_row_iq4_nl(void* out, const float* in, int64_t n, const float* importance) {
  constexpr int kTries = 7;
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = in + b * kQK;
    float w[kQK];
    if (importance != nullptr) {
      importance_weights(w, x, importance + b * kQK, kQK, 2 * row_mean_square(x, kQK));
    } else {
      for (int j = 0; j < kQK; ++j) w[j] = x[j] * x[j];
    }
    uint8_t l[kQK];
    BlockIq4Nl blk;
    blk.d = f32_to_fp16(search_scale_table(kQK, kIq4nlValues, x, w, kTries, l));
    for (int j = 0; j < kQK / 2; ++j) blk.qs[j] = static_cast<uint8_t>(l[j] | l[j + kQK / 2] << 4);
    std::memcpy(static_cast<uint8_t*>(out) + b * sizeof(BlockIq4Nl), &blk, sizeof blk);
  }
}

float dot_iq4_nl_q8_0_scalar(int64_t n, const void* w, const void* a) {
  const int64_t nb = n / kQK;
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) {
    BlockIq4Nl x;
    BlockQ8_0 y;
    std::memcpy(&x, static_cast<const uint8_t*>(w) + b * sizeof(BlockIq4Nl), sizeof x);
    std::memcpy(&y, static_cast<const uint8_t*>(a) + b * sizeof(BlockQ8_0), sizeof y);
    int s = 0;
    for (int j = 0; j < kQK / 2; ++j)
      s += kIq4nlValues[x.qs[j] & 0x0F] * y.qs[j] + kIq4nlValues[x.qs[j] >> 4] * y.qs[j + kQK / 2];
    sum += static_cast<float>(s) * (fp16_to_f32(x.d) * fp16_to_f32(y.d));
  }
  return sum;
}

}  // namespace lmpack
