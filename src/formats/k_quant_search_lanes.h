// The bodies of k_search_affine_x8, k_search_symmetric_x8 and
// k_search_symmetric_refine_x8 (formats/k_quant_search_x8.h), written once
// over a lane type V and compiled per ISA:
// k_quant_search_x8.cpp with plain float arrays, k_quant_search_x8_avx2.cpp
// with AVX registers. Include only from those files. Everything here has
// internal linkage (DEVELOPERS.md, "SIMD files").
//
// V holds kSearchLanes floats and provides: V::load(p), V::splat(f),
// v.store(p), + - * /, max_or(a, b) = a > b ? a : b and min_or(a, b) =
// a < b ? a : b per lane (so NaN gives b, as the scalar clamps), round_even,
// abs; masks from gt, lt, ne, combined with &, select(m, a, b) =
// m ? a : b, any(m), lane(m, s).
#pragma once

#include <cstdint>

#include "formats/format_common.h"
#include "formats/k_quant_search_x8.h"

namespace lmpack {
namespace {

constexpr int kLanesMaxN = 32;  // the k-quant sub-blocks are 16 or 32 long

// x[s * n + i] -> t[i * kSearchLanes + s].
inline void lanes_transpose(int n, const float* x, float* t) {
  for (int s = 0; s < kSearchLanes; ++s)
    for (int i = 0; i < n; ++i) t[i * kSearchLanes + s] = x[s * n + i];
}

// The scalar search's k_round_clamped, per lane.
template <class V>
inline V lanes_round_clamped(V v, V lo, V hi) {
  return round_even(min_or(max_or(v, lo), hi));
}

// Sub-blocks x[s * n + i] as n lane vectors: rows[i] holds element i of each.
template <class V>
inline void lanes_load(int n, const float* x, V* rows) {
  alignas(64) float buf[kLanesMaxN * kSearchLanes];
  lanes_transpose(n, x, buf);
  for (int i = 0; i < n; ++i) rows[i] = V::load(buf + i * kSearchLanes);
}

// Per lane, the value of largest magnitude (the first on ties) and that
// magnitude, as the scalar searches' signed_max.
template <class V>
inline void lanes_signed_max(int n, const V* xt, V* max, V* amax) {
  *max = *amax = V::splat(0.0f);
  for (int i = 0; i < n; ++i) {
    const V ax = abs(xt[i]);
    const auto bigger = gt(ax, *amax);
    *max = select(bigger, xt[i], *max);
    *amax = select(bigger, ax, *amax);
  }
}

// The symmetric searches' results: levels l in [-nmax, nmax - 1] stored as
// l + nmax, scale as given; a lane whose max |x| is below the all-zero
// threshold gets scale 0 and levels 0.
template <class V>
inline void lanes_store_symmetric(int n, int nmax, V amax, V scale, const V* levels, int8_t* L, float* scales) {
  constexpr int kS = kSearchLanes;
  alignas(64) float buf[kLanesMaxN * kS], out_scale[kS];
  const auto dead = lt(amax, V::splat(kGroupMaxEps));
  select(dead, V::splat(0.0f), scale).store(out_scale);
  const V offset = V::splat(static_cast<float>(nmax));
  for (int i = 0; i < n; ++i) (levels[i] + offset).store(buf + i * kS);
  for (int s = 0; s < kS; ++s) {
    scales[s] = out_scale[s];
    const bool lane_dead = lane(dead, s);
    for (int i = 0; i < n; ++i) L[s * n + i] = lane_dead ? 0 : static_cast<int8_t>(buf[i * kS + s]);
  }
}

template <class V>
void affine_search_lanes(int n, int nmax, const float* x, const float* w, uint8_t* L, float* scales,
                         float* neg_mins, float rmin, float rdelta, int nstep, bool use_mad) {
  constexpr int kS = kSearchLanes;
  if (n < 1 || n > kLanesMaxN) return;  // the callers check
  V xt[kLanesMaxN], wt[kLanesMaxN], best_l[kLanesMaxN], trial[kLanesMaxN];
  lanes_load(n, x, xt);
  lanes_load(n, w, wt);

  V min = xt[0], max = xt[0], sum_w = wt[0], sum_x = wt[0] * xt[0];
  for (int i = 1; i < n; ++i) {
    min = select(lt(xt[i], min), xt[i], min);
    max = select(gt(xt[i], max), xt[i], max);
    sum_w = sum_w + wt[i];
    sum_x = sum_x + wt[i] * xt[i];
  }
  const V zero = V::splat(0.0f), fmax_level = V::splat(static_cast<float>(nmax));
  min = select(gt(min, zero), zero, min);
  const auto live = gt(max, min);  // else a constant non-positive (or NaN) sub-block: levels 0
  auto error_of = [use_mad](V diff) { return use_mad ? abs(diff) : diff * diff; };

  V iscale = fmax_level / (max - min);
  V scale = V::splat(1.0f) / iscale;
  V best = zero;
  for (int i = 0; i < n; ++i) {
    const V l = lanes_round_clamped(iscale * (xt[i] - min), zero, fmax_level);
    best_l[i] = l;
    best = best + wt[i] * error_of(scale * l + min - xt[i]);
  }
  for (int k = 0; nstep >= 1 && k <= nstep; ++k) {  // nstep 0: the min-max fit alone, as the scalar search
    iscale = V::splat(rmin + rdelta * static_cast<float>(k) + static_cast<float>(nmax)) / (max - min);
    V sum_l = zero, sum_l2 = zero, sum_xl = zero;
    for (int i = 0; i < n; ++i) {
      const V l = lanes_round_clamped(iscale * (xt[i] - min), zero, fmax_level);
      trial[i] = l;
      sum_l = sum_l + wt[i] * l;
      sum_l2 = sum_l2 + wt[i] * l * l;
      sum_xl = sum_xl + wt[i] * l * xt[i];
    }
    const V det = sum_w * sum_l2 - sum_l * sum_l;
    const V fit_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    const auto clamp_min = gt(fit_min, zero);
    const V this_scale = select(clamp_min, sum_xl / sum_l2, (sum_w * sum_xl - sum_x * sum_l) / det);
    const V this_min = select(clamp_min, zero, fit_min);
    V err = zero;
    for (int i = 0; i < n; ++i) err = err + wt[i] * error_of(this_scale * trial[i] + this_min - xt[i]);
    const auto better = gt(det, zero) & lt(err, best);
    if (!any(better)) continue;
    best = select(better, err, best);
    scale = select(better, this_scale, scale);
    min = select(better, this_min, min);
    for (int i = 0; i < n; ++i) best_l[i] = select(better, trial[i], best_l[i]);
  }
  alignas(64) float buf[kLanesMaxN * kS], out_scale[kS], out_min[kS];
  select(live, scale, zero).store(out_scale);
  min.store(out_min);
  for (int i = 0; i < n; ++i) best_l[i].store(buf + i * kS);
  for (int s = 0; s < kS; ++s) {
    scales[s] = out_scale[s];
    neg_mins[s] = -out_min[s];
    const bool lane_live = lane(live, s);
    for (int i = 0; i < n; ++i) L[s * n + i] = lane_live ? static_cast<uint8_t>(buf[i * kS + s]) : 0;
  }
}

template <class V>
void symmetric_search_lanes(int n, int nmax, const float* x, const float* w, int8_t* L, float* scales) {
  if (n < 1 || n > kLanesMaxN) return;  // the callers check
  V xt[kLanesMaxN], wt[kLanesMaxN], best_l[kLanesMaxN], trial[kLanesMaxN];
  lanes_load(n, x, xt);
  if (w != nullptr) {
    lanes_load(n, w, wt);
  } else {
    for (int i = 0; i < n; ++i) wt[i] = xt[i] * xt[i];
  }
  const V zero = V::splat(0.0f);
  V max, amax;
  lanes_signed_max(n, xt, &max, &amax);
  const V lo = V::splat(static_cast<float>(-nmax)), hi = V::splat(static_cast<float>(nmax - 1));
  V sumlx, suml2;
  auto fit = [&](V iscale, V* levels) {
    sumlx = zero;
    suml2 = zero;
    for (int i = 0; i < n; ++i) {
      const V l = lanes_round_clamped(iscale * xt[i], lo, hi);
      levels[i] = l;
      sumlx = sumlx + wt[i] * xt[i] * l;
      suml2 = suml2 + wt[i] * l * l;
    }
  };
  fit(V::splat(-static_cast<float>(nmax)) / max, best_l);
  V scale = select(ne(suml2, zero), sumlx / suml2, zero);
  V best = scale * sumlx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    fit(V::splat(-(static_cast<float>(nmax) + 0.1f * static_cast<float>(k))) / max, trial);
    const auto better = gt(suml2, zero) & gt(sumlx * sumlx, best * suml2);
    if (!any(better)) continue;
    const V sc = sumlx / suml2;
    scale = select(better, sc, scale);
    best = select(better, sc * sumlx, best);
    for (int i = 0; i < n; ++i) best_l[i] = select(better, trial[i], best_l[i]);
  }
  lanes_store_symmetric(n, nmax, amax, scale, best_l, L, scales);
}

template <class V>
void symmetric_refine_lanes(int n, int nmax, const float* x, int8_t* L, float* scales) {
  if (n < 1 || n > kLanesMaxN) return;  // the callers check
  V xt[kLanesMaxN], wt[kLanesMaxN], lv[kLanesMaxN];
  lanes_load(n, x, xt);
  for (int i = 0; i < n; ++i) wt[i] = xt[i] * xt[i];
  const V zero = V::splat(0.0f);
  V max, amax;
  lanes_signed_max(n, xt, &max, &amax);
  const V lo = V::splat(static_cast<float>(-nmax)), hi = V::splat(static_cast<float>(nmax - 1));
  const V iscale = V::splat(-static_cast<float>(nmax)) / max;
  V sumlx = zero, suml2 = zero;
  for (int i = 0; i < n; ++i) {
    lv[i] = lanes_round_clamped(iscale * xt[i], lo, hi);
    sumlx = sumlx + wt[i] * xt[i] * lv[i];
    suml2 = suml2 + wt[i] * lv[i] * lv[i];
  }
  // Coordinate descent. A lane whose sweep changed nothing would change
  // nothing in another (its state is the same), so running every lane until
  // none changes is the scalar search's early stop.
  for (int sweep = 0; sweep < 5; ++sweep) {
    bool changed = false;
    for (int i = 0; i < n; ++i) {
      const V slx = sumlx - wt[i] * xt[i] * lv[i];
      const V sl2 = suml2 - wt[i] * lv[i] * lv[i];
      const V nl = lanes_round_clamped(xt[i] * sl2 / slx, lo, hi);
      const V new_slx = slx + wt[i] * xt[i] * nl;
      const V new_sl2 = sl2 + wt[i] * nl * nl;
      const auto accept = gt(slx, zero) & ne(nl, lv[i]) & gt(new_sl2, zero) &
                          gt(new_slx * new_slx * suml2, sumlx * sumlx * new_sl2);
      if (!any(accept)) continue;
      changed = true;
      lv[i] = select(accept, nl, lv[i]);
      sumlx = select(accept, new_slx, sumlx);
      suml2 = select(accept, new_sl2, suml2);
    }
    if (!changed) break;
  }
  lanes_store_symmetric(n, nmax, amax, select(gt(suml2, zero), sumlx / suml2, zero), lv, L, scales);
}

}  // namespace
}  // namespace lmpack
