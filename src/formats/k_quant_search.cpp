#include "formats/k_quant_search.h"

#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "formats/format_common.h"

namespace lmpack {

namespace {

constexpr float kGroupMaxEps = 1e-15f;  // below this max |x| a block counts as all zero

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

// Sum of 8 partial sums, in a fixed order.
inline float fold_lanes(const float* v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
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
  float iscale = -static_cast<float>(nmax) / max;
  float sumlx = 0.0f, suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = k_round(iscale * x[i], -nmax, nmax - 1);
    L[i] = static_cast<int8_t>(l + nmax);
    const float wi = weight(i);
    sumlx += wi * x[i] * static_cast<float>(l);
    suml2 += wi * static_cast<float>(l * l);
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  // The 18 other candidates, with sums in 8 interleaved partial sums (n is
  // a multiple of 8, at most 32) as in k_search_affine.
  constexpr int kLanes = 8;
  float wt[32], wx[32];
  for (int i = 0; i < n; ++i) {
    wt[i] = weight(i);
    wx[i] = wt[i] * x[i];
  }
  const float lo = static_cast<float>(-nmax), hi = static_cast<float>(nmax - 1);
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / max;
    float a[kLanes] = {}, b[kLanes] = {};
    for (int i = 0; i < n; i += kLanes) {
      for (int j = 0; j < kLanes; ++j) {
        float v = iscale * x[i + j];
        v = v > lo ? v : lo;  // NaN -> lo
        v = v < hi ? v : hi;
        const float l = std::nearbyint(v);
        a[j] += wx[i + j] * l;
        b[j] += wt[i + j] * (l * l);
      }
    }
    sumlx = fold_lanes(a);
    suml2 = fold_lanes(b);
    // A larger sumlx^2 / suml2 is a smaller weighted squared error at the
    // least-squares scale sumlx / suml2.
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(k_round(iscale * x[i], -nmax, nmax - 1) + nmax);
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
    suml2 += wi * static_cast<float>(l * l);
  }
  for (int sweep = 0; sweep < 5; ++sweep) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float wi = x[i] * x[i];
      float slx = sumlx - wi * x[i] * static_cast<float>(L[i]);
      if (slx <= 0.0f) continue;
      float sl2 = suml2 - wi * static_cast<float>(L[i] * L[i]);
      const int nl = k_round(x[i] * sl2 / slx, -nmax, nmax - 1);
      if (nl == L[i]) continue;
      slx += wi * x[i] * static_cast<float>(nl);
      sl2 += wi * static_cast<float>(nl * nl);
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
  float iscale = static_cast<float>(nmax) / (max - min);
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
  // The candidate loop is the encoders' hot spot. Its sums run in 8
  // interleaved partial sums (n is 16 or 32), so the compiler can keep them
  // in one vector register instead of a chain of dependent scalar adds; the
  // results differ from an in-order sum only by float rounding.
  constexpr int kLanes = 8;
  float trial[32];  // n <= 32: the k-quant sub-blocks are 16 or 32 long
  const float fmax_level = static_cast<float>(nmax);
  for (int k = 0; k <= nstep; ++k) {
    // The range uses the best (scale, min) so far, as GGML's search does.
    iscale = (rmin + rdelta * static_cast<float>(k) + fmax_level) / (max - min);
    float sl[kLanes] = {}, sl2[kLanes] = {}, sxl[kLanes] = {};
    for (int i = 0; i < n; i += kLanes) {
      for (int j = 0; j < kLanes; ++j) {
        float v = iscale * (x[i + j] - min);
        v = v > 0.0f ? v : 0.0f;  // NaN -> 0
        v = v < fmax_level ? v : fmax_level;
        const float l = std::nearbyint(v);
        trial[i + j] = l;
        const float wl = w[i + j] * l;
        sl[j] += wl;
        sl2[j] += wl * l;
        sxl[j] += wl * x[i + j];
      }
    }
    const float sum_l = fold_lanes(sl), sum_l2 = fold_lanes(sl2), sum_xl = fold_lanes(sxl);
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0.0f)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0.0f) {
      this_min = 0.0f;
      this_scale = sum_xl / sum_l2;
    }
    float e[kLanes] = {};
    for (int i = 0; i < n; i += kLanes) {
      for (int j = 0; j < kLanes; ++j) {
        const float diff = this_scale * trial[i + j] + this_min - x[i + j];
        e[j] += w[i + j] * (use_mad ? std::fabs(diff) : diff * diff);
      }
    }
    const float err = fold_lanes(e);
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
    suml2 += w[i] * static_cast<float>(l * l);
  }
  for (int sweep = 0; sweep < 5; ++sweep) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      float slx = sumlx - w[i] * x[i] * static_cast<float>(L[i]);
      float sl2 = suml2 - w[i] * static_cast<float>(L[i] * L[i]);
      if (!(slx > 0.0f && sl2 > 0.0f)) continue;
      const int nl = k_round(x[i] * sl2 / slx, 0, nmax);
      if (nl == L[i]) continue;
      slx += w[i] * x[i] * static_cast<float>(nl);
      sl2 += w[i] * static_cast<float>(nl * nl);
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
  float scales[kSub], mins[kSub], weights[32];
  uint8_t ls[kSub], lm[kSub];
  if (importance == nullptr) {
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < kSub; ++j) {
      const float* xs = x + 32 * j;
      const float av_x = std::sqrt(k_sum_squares(xs, 32) / 32.0f);
      for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
      scales[j] = k_search_affine(32, nmax, xs, weights, L + 32 * j, &mins[j], ref_rmin, 0.1f, ref_nstep, false);
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
        weights[l] = qw[l] * std::sqrt(sigma2 + xs[l] * xs[l]);
        sumw += weights[l];
      }
      sw[j] = sumw;
      scales[j] = k_search_affine(32, nmax, xs, weights, L + 32 * j, &mins[j], -0.9f, 0.05f, 36, false);
    }
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
