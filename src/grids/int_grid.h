// Integer quantization grid for one group of weights, with the conventions of
// GPTQ's reference code and AutoGPTQ's Quantizer:
//   q = clamp(round(x / scale) + zero, 0, maxq),  x̂ = scale · (q - zero),
//   maxq = 2^bits - 1.
// The range always contains 0 (xmin = min(min w, 0), xmax = max(max w, 0)).
// Asymmetric: scale = (xmax - xmin) / maxq, zero = round(-xmin / scale)
// clamped to [0, maxq]. Symmetric: xmax = max(|xmin|, xmax), xmin = -xmax,
// zero = 2^(bits-1). An all-zero group gets the range [-1, 1].
// Deviation: AutoGPTQ keeps xmin = 0 for a symmetric group with no negative
// value (so half the codes go unused and large values clip); here the
// symmetric range is always [-xmax, xmax].
// Rounding is to nearest, ties to even (torch.round).
// Optional MSE clip search (AutoGPTQ's mse=True): try shrinking the range by
// p = 1 - i/grid_points for i < max_shrink·grid_points and keep the p with the
// least Σ|x̂ - x|^norm.
#pragma once

#include <cmath>
#include <cstdint>

namespace lmpack {

struct IntGridSpec {
  int bits = 4;             // 2, 3, 4 or 8
  bool symmetric = false;
  bool mse_clip = false;    // search shrink factors instead of plain min-max
  int grid_points = 100;    // MSE search resolution
  float max_shrink = 0.8f;  // search shrink factors down to 1 - max_shrink
  float norm = 2.4f;        // exponent of the MSE search's error
  // Smallest asymmetric zero point (0 or 1). GPTQ checkpoints store zero - 1
  // in `bits` bits, so a zero of 0 cannot be written (it would read back as
  // 2^bits); exports set 1: a group whose range would need zero 0 (no
  // negative value) gets zero 1 and scale = xmax / (maxq - 1) instead.
  int32_t min_zero = 0;
};

// Parameters of one group. zero is an integer in [0, maxq].
struct IntGroupParams {
  float scale = 1.0f;
  int32_t zero = 0;
  int32_t maxq = 15;
};

// Throws Error("int grid", ...) unless bits is 2/3/4/8 and the MSE options
// are sane.
void validate_int_grid(const IntGridSpec& spec);

// Scale and zero point for the n values w (n > 0). With importance ([n]
// non-negative weights, e.g. an imatrix's mean x² per column), the shrink
// factors of the MSE search are always tried (grid_points, max_shrink from
// spec, mse_clip or not) and the one with the least Σ importance·(x̂ - x)² wins
// (plain min-max included, so it never does worse by that measure).
IntGroupParams find_params(const float* w, int64_t n, const IntGridSpec& spec, const float* importance = nullptr);

// The code of x on the grid, in [0, maxq].
inline int32_t quantize_value(float x, const IntGroupParams& p) {
  float q = std::nearbyint(x / p.scale) + static_cast<float>(p.zero);
  q = q < 0.0f ? 0.0f : (q > static_cast<float>(p.maxq) ? static_cast<float>(p.maxq) : q);
  return static_cast<int32_t>(q);
}

inline float dequantize(int32_t q, const IntGroupParams& p) {
  return p.scale * static_cast<float>(q - p.zero);
}

// x rounded to the nearest grid point (dequantize(quantize_value(x))).
inline float round_to_grid(float x, const IntGroupParams& p) { return dequantize(quantize_value(x, p), p); }

}  // namespace lmpack
