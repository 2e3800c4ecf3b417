// The k-quant scale searches of formats/k_quant_search.h run on eight
// sub-blocks at once, one per SIMD lane: sub-block s is x[s * n .. s * n + n)
// (weights w likewise) and its results go to scales[s], neg_mins[s] and
// L[s * n ..). Each lane does exactly the scalar search's arithmetic in the
// scalar search's order (sums in element order, no contraction), so the
// results are the same bit for bit as eight calls of the scalar function;
// tests/formats/k_quant_search_x8_test.cpp holds them to that. The speed comes
// from the lanes: the scalar searches' sums run in element order, as GGML's
// do, and so cannot be split across a vector.
#pragma once

#include <cstdint>

namespace lmpack {

constexpr int kSearchLanes = 8;

// Eight k_search_affine calls (n 16 or 32).
void k_search_affine_x8(int n, int nmax, const float* x, const float* w, uint8_t* L, float* scales, float* neg_mins,
                        float rmin, float rdelta, int nstep, bool use_mad);

// Eight k_search_symmetric calls (n 16 or 32); w == nullptr weighs by x^2.
void k_search_symmetric_x8(int n, int nmax, const float* x, const float* w, int8_t* L, float* scales);

// Eight k_search_symmetric_refine calls (n 16 or 32).
void k_search_symmetric_refine_x8(int n, int nmax, const float* x, int8_t* L, float* scales);

// The variants the two above dispatch between (on active_isa()), for tests
// and benchmarks: portable C++ (any CPU) and AVX2 (only when active_isa()
// allows it).
void k_search_affine_x8_portable(int n, int nmax, const float* x, const float* w, uint8_t* L, float* scales,
                                 float* neg_mins, float rmin, float rdelta, int nstep, bool use_mad);
void k_search_symmetric_x8_portable(int n, int nmax, const float* x, const float* w, int8_t* L, float* scales);
void k_search_symmetric_refine_x8_portable(int n, int nmax, const float* x, int8_t* L, float* scales);
void k_search_affine_x8_avx2(int n, int nmax, const float* x, const float* w, uint8_t* L, float* scales,
                             float* neg_mins, float rmin, float rdelta, int nstep, bool use_mad);
void k_search_symmetric_x8_avx2(int n, int nmax, const float* x, const float* w, int8_t* L, float* scales);
void k_search_symmetric_refine_x8_avx2(int n, int nmax, const float* x, int8_t* L, float* scales);

}  // namespace lmpack
