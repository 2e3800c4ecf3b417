#include "formats/scale_search.h"

#include <algorithm>
#include <cstring>

#include "formats/format_common.h"

namespace lmpack {

float search_scale_symmetric(int n, int nmax, const float* x, const float* w, uint8_t* levels) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(levels, 0, static_cast<size_t>(n));
    return 0.0f;
  }
  // Level sums for the candidate inverse scale `iscale`; l in [-nmax, nmax - 1].
  auto sums = [&](float iscale, float* sumlx, float* suml2) {
    float slx = 0, sl2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      slx += w[i] * x[i] * static_cast<float>(l);
      sl2 += w[i] * static_cast<float>(l) * static_cast<float>(l);
    }
    *sumlx = slx;
    *suml2 = sl2;
  };
  auto write_levels = [&](float iscale) {
    for (int i = 0; i < n; ++i)
      levels[i] = static_cast<uint8_t>(nmax + std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1));
  };
  // The max-abs element maps to -nmax (the one level that exists only on the
  // negative side), then a fan of 18 neighbouring scales.
  float iscale = -static_cast<float>(nmax) / max;
  float sumlx, suml2;
  sums(iscale, &sumlx, &suml2);
  write_levels(iscale);
  float scale = suml2 > 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;  // the error drop sum(w x^2) - err; bigger is better
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    sums(iscale, &sumlx, &suml2);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      write_levels(iscale);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float search_scale_affine(int n, int nmax, const float* x, const float* w, uint8_t* levels, float* neg_min) {
  constexpr float kRmin = -0.9f, kRdelta = 0.05f;
  constexpr int kSteps = 36;
  float min = x[0], max = x[0];
  float sum_w = 0, sum_x = 0;
  for (int i = 0; i < n; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max <= min) {
    std::memset(levels, 0, static_cast<size_t>(n));
    *neg_min = -min;
    return 0.0f;
  }
  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_err = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax);
    levels[i] = static_cast<uint8_t>(l);
    const float diff = scale * static_cast<float>(l) + min - x[i];
    best_err += w[i] * (diff * diff);
  }
  uint8_t trial[256];
  for (int is = 0; is <= kSteps; ++is) {
    iscale = (kRmin + kRdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      // `min` is the best fit so far; v may be out of range, so clamp first.
      const float v = iscale * (x[i] - min);
      const int l = v > 0 ? nearest_int(std::min(v, static_cast<float>(nmax))) : 0;
      trial[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * static_cast<float>(l);
      sum_l2 += w[i] * static_cast<float>(l) * static_cast<float>(l);
      sum_xl += w[i] * static_cast<float>(l) * x[i];
    }
    // Weighted least squares for (scale, min) given the levels.
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0) {
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float err = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = this_scale * static_cast<float>(trial[i]) + this_min - x[i];
      err += w[i] * (diff * diff);
    }
    if (err < best_err) {
      std::memcpy(levels, trial, static_cast<size_t>(n));
      best_err = err;
      scale = this_scale;
      min = this_min;
    }
  }
  *neg_min = -min;
  return scale;
}

int nearest_table_index(const int8_t* table, float v) {
  // Entry i wins once v reaches the midpoint of table[i-1] and table[i];
  // doubled to stay exact. Branch-free binary search over 16 entries.
  const float v2 = v + v;
  int idx = 0;
  for (int step = 8; step > 0; step >>= 1) {
    const int j = idx + step;
    if (v2 >= static_cast<float>(table[j - 1] + table[j])) idx = j;
  }
  return idx;
}

float search_scale_table(int n, const int8_t* table, const float* x, const float* w, int ntry, uint8_t* levels) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  const uint8_t zero_index = static_cast<uint8_t>(nearest_table_index(table, 0.0f));
  if (amax < kGroupMaxEps) {
    std::memset(levels, zero_index, static_cast<size_t>(n));
    return 0.0f;
  }
  auto fit = [&](float id, float* sumqx, float* sumq2) {
    float sqx = 0, sq2 = 0;
    for (int i = 0; i < n; ++i) {
      const float q = table[nearest_table_index(table, id * x[i])];
      sqx += w[i] * q * x[i];
      sq2 += w[i] * q * q;
    }
    *sumqx = sqx;
    *sumq2 = sq2;
  };
  float d = ntry > 0 ? -max / table[0] : max / table[0];
  float sumqx, sumq2;
  fit(1 / d, &sumqx, &sumq2);
  d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
  float best = d * sumqx;
  for (int itry = -ntry; itry <= ntry; ++itry) {
    fit((static_cast<float>(itry) + table[0]) / max, &sumqx, &sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  const float id = d != 0 ? 1 / d : 0.0f;
  for (int i = 0; i < n; ++i) levels[i] = static_cast<uint8_t>(nearest_table_index(table, id * x[i]));
  return d;
}

float row_mean_square(const float* x, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * x[i];
  return n > 0 ? sum / static_cast<float>(n) : 0.0f;
}

void importance_weights(float* w, const float* x, const float* importance, int n, float sigma2) {
  for (int j = 0; j < n; ++j) w[j] = importance[j] * std::sqrt(sigma2 + x[j] * x[j]);
}

}  // namespace lmpack
