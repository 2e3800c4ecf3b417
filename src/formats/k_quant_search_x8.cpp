#include "formats/k_quant_search_x8.h"

#include <cmath>

#include "core/cpu_features.h"
#include "core/error.h"
#include "formats/k_quant_search_lanes.h"

namespace lmpack {

namespace {

// Eight floats in an array; every operation a loop over the lanes.
struct ArrayLanes {
  float v[kSearchLanes];
  static ArrayLanes load(const float* p) {
    ArrayLanes r;
    for (int s = 0; s < kSearchLanes; ++s) r.v[s] = p[s];
    return r;
  }
  static ArrayLanes splat(float f) {
    ArrayLanes r;
    for (float& e : r.v) e = f;
    return r;
  }
  void store(float* p) const {
    for (int s = 0; s < kSearchLanes; ++s) p[s] = v[s];
  }
};
struct ArrayMask {
  bool v[kSearchLanes];
};

template <class F>
ArrayLanes map2(ArrayLanes a, ArrayLanes b, F f) {
  ArrayLanes r;
  for (int s = 0; s < kSearchLanes; ++s) r.v[s] = f(a.v[s], b.v[s]);
  return r;
}
template <class F>
ArrayMask test2(ArrayLanes a, ArrayLanes b, F f) {
  ArrayMask r;
  for (int s = 0; s < kSearchLanes; ++s) r.v[s] = f(a.v[s], b.v[s]);
  return r;
}

ArrayLanes operator+(ArrayLanes a, ArrayLanes b) { return map2(a, b, [](float p, float q) { return p + q; }); }
ArrayLanes operator-(ArrayLanes a, ArrayLanes b) { return map2(a, b, [](float p, float q) { return p - q; }); }
ArrayLanes operator*(ArrayLanes a, ArrayLanes b) { return map2(a, b, [](float p, float q) { return p * q; }); }
ArrayLanes operator/(ArrayLanes a, ArrayLanes b) { return map2(a, b, [](float p, float q) { return p / q; }); }
ArrayLanes max_or(ArrayLanes a, ArrayLanes b) { return map2(a, b, [](float p, float q) { return p > q ? p : q; }); }
ArrayLanes min_or(ArrayLanes a, ArrayLanes b) { return map2(a, b, [](float p, float q) { return p < q ? p : q; }); }
ArrayLanes round_even(ArrayLanes a) { return map2(a, a, [](float p, float) { return std::nearbyint(p); }); }
ArrayLanes abs(ArrayLanes a) { return map2(a, a, [](float p, float) { return std::fabs(p); }); }
ArrayMask gt(ArrayLanes a, ArrayLanes b) { return test2(a, b, [](float p, float q) { return p > q; }); }
ArrayMask lt(ArrayLanes a, ArrayLanes b) { return test2(a, b, [](float p, float q) { return p < q; }); }
ArrayMask ne(ArrayLanes a, ArrayLanes b) { return test2(a, b, [](float p, float q) { return p != q; }); }
ArrayMask operator&(ArrayMask a, ArrayMask b) {
  for (int s = 0; s < kSearchLanes; ++s) a.v[s] = a.v[s] && b.v[s];
  return a;
}
ArrayLanes select(ArrayMask m, ArrayLanes a, ArrayLanes b) {
  for (int s = 0; s < kSearchLanes; ++s) b.v[s] = m.v[s] ? a.v[s] : b.v[s];
  return b;
}
bool any(ArrayMask m) {
  bool r = false;
  for (bool b : m.v) r = r || b;
  return r;
}
bool lane(ArrayMask m, int s) { return m.v[s]; }

bool use_avx2() { return active_isa() >= Isa::kAvx2; }

}  // namespace

void k_search_affine_x8_portable(int n, int nmax, const float* x, const float* w, uint8_t* L, float* scales,
                                 float* neg_mins, float rmin, float rdelta, int nstep, bool use_mad) {
  affine_search_lanes<ArrayLanes>(n, nmax, x, w, L, scales, neg_mins, rmin, rdelta, nstep, use_mad);
}

void k_search_symmetric_x8_portable(int n, int nmax, const float* x, const float* w, int8_t* L, float* scales) {
  symmetric_search_lanes<ArrayLanes>(n, nmax, x, w, L, scales);
}

void k_search_symmetric_refine_x8_portable(int n, int nmax, const float* x, int8_t* L, float* scales) {
  symmetric_refine_lanes<ArrayLanes>(n, nmax, x, L, scales);
}

void k_search_affine_x8(int n, int nmax, const float* x, const float* w, uint8_t* L, float* scales, float* neg_mins,
                        float rmin, float rdelta, int nstep, bool use_mad) {
  LMPACK_CHECK(n >= 1 && n <= kLanesMaxN);
  if (use_avx2()) return k_search_affine_x8_avx2(n, nmax, x, w, L, scales, neg_mins, rmin, rdelta, nstep, use_mad);
  k_search_affine_x8_portable(n, nmax, x, w, L, scales, neg_mins, rmin, rdelta, nstep, use_mad);
}

void k_search_symmetric_x8(int n, int nmax, const float* x, const float* w, int8_t* L, float* scales) {
  LMPACK_CHECK(n >= 1 && n <= kLanesMaxN);
  if (use_avx2()) return k_search_symmetric_x8_avx2(n, nmax, x, w, L, scales);
  k_search_symmetric_x8_portable(n, nmax, x, w, L, scales);
}

void k_search_symmetric_refine_x8(int n, int nmax, const float* x, int8_t* L, float* scales) {
  LMPACK_CHECK(n >= 1 && n <= kLanesMaxN);
  if (use_avx2()) return k_search_symmetric_refine_x8_avx2(n, nmax, x, L, scales);
  k_search_symmetric_refine_x8_portable(n, nmax, x, L, scales);
}

}  // namespace lmpack
