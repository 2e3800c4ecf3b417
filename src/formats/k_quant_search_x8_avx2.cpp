// k_search_affine_x8 and k_search_symmetric_x8 on AVX2: the lanes are one
// __m256 (formats/k_quant_search_lanes.h holds the searches themselves).
#include <immintrin.h>

#include "formats/k_quant_search_lanes.h"
#include "formats/k_quant_search_x8.h"

namespace lmpack {

namespace {

struct Avx2Lanes {
  __m256 v;
  static Avx2Lanes load(const float* p) { return {_mm256_load_ps(p)}; }
  static Avx2Lanes splat(float f) { return {_mm256_set1_ps(f)}; }
  void store(float* p) const { _mm256_store_ps(p, v); }
};
struct Avx2Mask {
  __m256 v;
};

Avx2Lanes operator+(Avx2Lanes a, Avx2Lanes b) { return {_mm256_add_ps(a.v, b.v)}; }
Avx2Lanes operator-(Avx2Lanes a, Avx2Lanes b) { return {_mm256_sub_ps(a.v, b.v)}; }
Avx2Lanes operator*(Avx2Lanes a, Avx2Lanes b) { return {_mm256_mul_ps(a.v, b.v)}; }
Avx2Lanes operator/(Avx2Lanes a, Avx2Lanes b) { return {_mm256_div_ps(a.v, b.v)}; }
// MAXPS/MINPS return their second operand unless the first compares
// greater (less): exactly a > b ? a : b, NaN included.
Avx2Lanes max_or(Avx2Lanes a, Avx2Lanes b) { return {_mm256_max_ps(a.v, b.v)}; }
Avx2Lanes min_or(Avx2Lanes a, Avx2Lanes b) { return {_mm256_min_ps(a.v, b.v)}; }
Avx2Lanes round_even(Avx2Lanes a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
Avx2Lanes abs(Avx2Lanes a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }
Avx2Mask gt(Avx2Lanes a, Avx2Lanes b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
Avx2Mask lt(Avx2Lanes a, Avx2Lanes b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
Avx2Mask ne(Avx2Lanes a, Avx2Lanes b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_NEQ_UQ)}; }  // NaN != x, as in C++
Avx2Mask operator&(Avx2Mask a, Avx2Mask b) { return {_mm256_and_ps(a.v, b.v)}; }
Avx2Lanes select(Avx2Mask m, Avx2Lanes a, Avx2Lanes b) { return {_mm256_blendv_ps(b.v, a.v, m.v)}; }
bool any(Avx2Mask m) { return _mm256_movemask_ps(m.v) != 0; }
bool lane(Avx2Mask m, int s) { return ((_mm256_movemask_ps(m.v) >> s) & 1) != 0; }

}  // namespace

void k_search_affine_x8_avx2(int n, int nmax, const float* x, const float* w, uint8_t* L, float* scales,
                             float* neg_mins, float rmin, float rdelta, int nstep, bool use_mad) {
  affine_search_lanes<Avx2Lanes>(n, nmax, x, w, L, scales, neg_mins, rmin, rdelta, nstep, use_mad);
}

void k_search_symmetric_x8_avx2(int n, int nmax, const float* x, const float* w, int8_t* L, float* scales) {
  symmetric_search_lanes<Avx2Lanes>(n, nmax, x, w, L, scales);
}

void k_search_symmetric_refine_x8_avx2(int n, int nmax, const float* x, int8_t* L, float* scales) {
  symmetric_refine_lanes<Avx2Lanes>(n, nmax, x, L, scales);
}

}  // namespace lmpack
