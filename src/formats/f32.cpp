#include "formats/f32.h"

#include <cstring>

#include "core/dtype.h"

namespace lmpack {
namespace {

// 8 lanes, lane i % 8, then a fixed pairwise reduction.
template <typename Load>
float dot_lanes(int64_t n, const float* a, Load load) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += load(i + k) * a[i + k];
  for (; i < n; ++i) acc[i % 8] += load(i) * a[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

}  // namespace

void quantize_row_f32(void* out, const float* in, int64_t n, const float* /*importance*/) {
  if (n > 0) std::memcpy(out, in, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_row_f32(float* out, const void* in, int64_t n) {
  if (n > 0) std::memcpy(out, in, static_cast<size_t>(n) * sizeof(float));
}

float dot_f32_f32_scalar(int64_t n, const void* w, const void* a) {
  const uint8_t* p = static_cast<const uint8_t*>(w);
  return dot_lanes(n, static_cast<const float*>(a), [p](int64_t i) {
    float v;
    std::memcpy(&v, p + 4 * i, 4);
    return v;
  });
}

float dot_f16_f32_scalar(int64_t n, const void* w, const void* a) {
  const uint8_t* p = static_cast<const uint8_t*>(w);
  return dot_lanes(n, static_cast<const float*>(a), [p](int64_t i) {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    return fp16_to_f32(h);
  });
}

float dot_bf16_f32_scalar(int64_t n, const void* w, const void* a) {
  const uint8_t* p = static_cast<const uint8_t*>(w);
  return dot_lanes(n, static_cast<const float*>(a), [p](int64_t i) {
    uint16_t b;
    std::memcpy(&b, p + 2 * i, 2);
    return bf16_to_f32(b);
  });
}

}  // namespace lmpack
