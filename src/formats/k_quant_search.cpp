#include "formats/k_quant_search.h"

#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "formats/format_common.h"
#include "formats/k_quant_search_x8.h"

namespace lmpack {

namespace {

// Index and value of the element of largest magnitude (the first on ties).
float signed_max(const float* x, int n, float* amax_out) {
  float max = 0.0f, amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  *amax_out = amax;
  return max;
}

}  // namespace

float k_sum_squares(const float* x, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

float k_search_symmetric(int n, int nmax, const float* x, const float* w, int8_t* L) {
  float amax = 0.0f;
  const float max = signed_max(x, n, &amax);
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, static_cast<size_t>(n));
    return 0.0f;
  }
  auto weight = [&](int i) { return w != nullptr ? w[i] : x[i] * x[i]; };
  const float lo = static_cast<float>(-nmax), hi = static_cast<float>(nmax - 1);
  // The weighted sums of one inverse scale, in element order: (w x) l and
  // (w l) l, as GGML accumulates them.
  auto fit = [&](float iscale, float* sumlx, float* suml2) {
    float slx = 0.0f, sl2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float l = k_round_clamped(iscale * x[i], lo, hi);
      const float wi = weight(i);
      slx += wi * x[i] * l;
      sl2 += wi * l * l;
    }
    *sumlx = slx;
    *suml2 = sl2;
  };
  auto write_levels = [&](float iscale) {
    for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(k_round_clamped(iscale * x[i], lo, hi) + hi + 1.0f);
  };
  float iscale = -static_cast<float>(nmax) / max;
  float sumlx = 0.0f, suml2 = 0.0f;
  fit(iscale, &sumlx, &suml2);
  write_levels(iscale);
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / max;
    fit(iscale, &sumlx, &suml2);
    // A larger sumlx^2 / suml2 is a smaller weighted squared error at the
    // least-squares scale sumlx / suml2.
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      write_levels(iscale);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float k_search_symmetric_refine(int n, int nmax, const float* x, int8_t* L) {
  float amax = 0.0f;
  const float max = signed_max(x, n, &amax);
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, static_cast<size_t>(n));
    return 0.0f;
  }
  const float iscale = -static_cast<float>(nmax) / max;
  float sumlx = 0.0f, suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = k_round(iscale * x[i], -nmax, nmax - 1);
    L[i] = static_cast<int8_t>(l);
    const float wi = x[i] * x[i];
    sumlx += wi * x[i] * static_cast<float>(l);
    suml2 += wi * static_cast<float>(l) * static_cast<float>(l);
  }
  for (int sweep = 0; sweep < 5; ++sweep) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float wi = x[i] * x[i];
      const float li = static_cast<float>(L[i]);
      float slx = sumlx - wi * x[i] * li;
      if (!(slx > 0.0f)) continue;
      float sl2 = suml2 - wi * li * li;
      const int nl = k_round(x[i] * sl2 / slx, -nmax, nmax - 1);
      if (nl == L[i]) continue;
      slx += wi * x[i] * static_cast<float>(nl);
      sl2 += wi * static_cast<float>(nl) * static_cast<float>(nl);
      if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
        L[i] = static_cast<int8_t>(nl);
        sumlx = slx;
        suml2 = sl2;
        ++changed;
      }
    }
    if (changed == 0) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

float k_search_affine(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min,
                      float rmin, float rdelta, int nstep, bool use_mad) {
  float min = x[0], max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0.0f) min = 0.0f;
  if (!(max > min)) {  // constant non-positive block (or NaN)
    std::memset(L, 0, static_cast<size_t>(n));
    *neg_min = -min;
    return 0.0f;
  }
  auto error_of = [&](float diff) { return use_mad ? std::fabs(diff) : diff * diff; };
  const float fmax_level = static_cast<float>(nmax);
  float iscale = fmax_level / (max - min);
  float scale = 1.0f / iscale;
  float best_error = 0.0f;
  for (int i = 0; i < n; ++i) {
    L[i] = static_cast<uint8_t>(k_round(iscale * (x[i] - min), 0, nmax));
    best_error += w[i] * error_of(scale * static_cast<float>(L[i]) + min - x[i]);
  }
  if (nstep < 1) {
    *neg_min = -min;
    return scale;
  }
  float trial[32];  // n <= 32: the k-quant sub-blocks are 16 or 32 long
  for (int k = 0; k <= nstep; ++k) {
    // The range uses the best minimum so far, as GGML's search does.
    iscale = (rmin + rdelta * static_cast<float>(k) + fmax_level) / (max - min);
    float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float l = k_round_clamped(iscale * (x[i] - min), 0.0f, fmax_level);
      trial[i] = l;
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0.0f)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0.0f) {
      this_min = 0.0f;
      this_scale = sum_xl / sum_l2;
    }
    float err = 0.0f;
    for (int i = 0; i < n; ++i) err += w[i] * error_of(this_scale * trial[i] + this_min - x[i]);
    if (err < best_error) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(trial[i]);
      best_error = err;
      scale = this_scale;
      min = this_min;
    }
  }
  *neg_min = -min;
  return scale;
}

float k_search_positive(int n, int nmax, const float* x, const float* w, uint8_t* L) {
  float max = 0.0f;
  for (int i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  if (max < kGroupMaxEps) {
    std::memset(L, 0, static_cast<size_t>(n));
    return 0.0f;
  }
  float iscale = static_cast<float>(nmax) / max;
  float scale = 1.0f / iscale;
  float best_mse = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float diff = x[i] - scale * static_cast<float>(k_round(iscale * x[i], 0, nmax));
    best_mse += w[i] * diff * diff;
  }
  for (int k = -4; k <= 4; ++k) {
    if (k == 0) continue;
    const float iscale_k = (0.1f * static_cast<float>(k) + static_cast<float>(nmax)) / max;
    const float scale_k = 1.0f / iscale_k;
    float mse = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float diff = x[i] - scale_k * static_cast<float>(k_round(iscale_k * x[i], 0, nmax));
      mse += w[i] * diff * diff;
    }
    if (mse < best_mse) {
      best_mse = mse;
      iscale = iscale_k;
    }
  }
  float sumlx = 0.0f, suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = k_round(iscale * x[i], 0, nmax);
    L[i] = static_cast<uint8_t>(l);
    sumlx += w[i] * x[i] * static_cast<float>(l);
    suml2 += w[i] * static_cast<float>(l) * static_cast<float>(l);
  }
  for (int sweep = 0; sweep < 5; ++sweep) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      float slx = sumlx - w[i] * x[i] * static_cast<float>(L[i]);
      float sl2 = suml2 - w[i] * static_cast<float>(L[i]) * static_cast<float>(L[i]);
      if (!(slx > 0.0f && sl2 > 0.0f)) continue;
      const int nl = k_round(x[i] * sl2 / slx, 0, nmax);
      if (nl == L[i]) continue;
      slx += w[i] * x[i] * static_cast<float>(nl);
      sl2 += w[i] * static_cast<float>(nl) * static_cast<float>(nl);
      if (slx * slx * suml2 > sumlx * sumlx * sl2) {
        L[i] = static_cast<uint8_t>(nl);
        sumlx = slx;
        suml2 = sl2;
        ++changed;
      }
    }
    if (changed == 0) break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

void k_encode_scale_min_8x32(const float* x, const float* importance, int nmax, float ref_rmin, int ref_nstep,
                             uint8_t* scales12, uint16_t* d, uint16_t* dmin, uint8_t* L) {
  constexpr int kSub = 8;
  float scales[kSub], mins[kSub], weights[256];
  static_assert(kSub == kSearchLanes);
  uint8_t ls[kSub], lm[kSub];
  if (importance == nullptr) {
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < kSub; ++j) {
      const float* xs = x + 32 * j;
      const float av_x = std::sqrt(k_sum_squares(xs, 32) / 32.0f);
      for (int l = 0; l < 32; ++l) weights[32 * j + l] = av_x + std::fabs(xs[l]);
    }
    k_search_affine_x8(32, nmax, x, weights, L, scales, mins, ref_rmin, 0.1f, ref_nstep, false);
    for (int j = 0; j < kSub; ++j) {
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < kSub; ++j) {
      ls[j] = static_cast<uint8_t>(k_round(inv_scale * scales[j], 0, 63));
      lm[j] = static_cast<uint8_t>(k_round(inv_min * mins[j], 0, 63));
    }
    *d = f32_to_fp16(max_scale / 63.0f);
    *dmin = f32_to_fp16(max_min / 63.0f);
  } else {
    const float sigma2 = 2.0f * k_sum_squares(x, 256) / 256.0f;
    float sw[kSub];
    for (int j = 0; j < kSub; ++j) {
      const float* xs = x + 32 * j;
      const float* qw = importance + 32 * j;
      float sumw = 0.0f;
      for (int l = 0; l < 32; ++l) {
        weights[32 * j + l] = qw[l] * std::sqrt(sigma2 + xs[l] * xs[l]);
        sumw += weights[32 * j + l];
      }
      sw[j] = sumw;
    }
    k_search_affine_x8(32, nmax, x, weights, L, scales, mins, -0.9f, 0.05f, 36, false);
    *d = f32_to_fp16(k_search_positive(kSub, 63, scales, sw, ls));
    *dmin = f32_to_fp16(k_search_positive(kSub, 63, mins, sw, lm));
  }
  pack_scale_min_k4(scales12, ls, lm);
  // Requantize every sub-block against the scale and min as stored.
  const float d_all = fp16_to_f32(*d), dmin_all = fp16_to_f32(*dmin);
  for (int j = 0; j < kSub; ++j) {
    const float dj = d_all * static_cast<float>(ls[j]);
    if (dj == 0.0f) continue;
    const float mj = dmin_all * static_cast<float>(lm[j]);
    for (int l = 0; l < 32; ++l) L[32 * j + l] = static_cast<uint8_t>(k_round((x[32 * j + l] + mj) / dj, 0, nmax));
  }
}

}  // namespace lmpack
