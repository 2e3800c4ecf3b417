// The eight-lane k-quant scale searches (formats/k_quant_search_x8.h) against
// the scalar ones (formats/k_quant_search.h): for every parameter set an
// encoder uses, and sub-blocks of Gaussian values, outliers, all zeros,
// constants, tiny and huge values and a NaN, each variant (portable, and AVX2
// where the CPU has it) must give the scalar search's scales, minima and
// levels bit for bit. The encoders' bytes against GGML's are checked in
// ggml_bytes_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "formats/k_quant_search.h"
#include "formats/k_quant_search_x8.h"

namespace lmpack {
namespace {

constexpr int kS = kSearchLanes;

// kGroups groups of eight sub-blocks of n values; group g's lanes are of
// kinds chosen so that every kind meets every lane position.
std::vector<float> sub_blocks(int n, int groups, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(groups) * kS * n);
  for (int b = 0; b < groups * kS; ++b) {
    float* v = x.data() + static_cast<size_t>(b) * n;
    const int kind = (b * 7 + b / kS) % 10;
    for (int i = 0; i < n; ++i) v[i] = g(rng);
    switch (kind) {
      case 0: v[rng() % n] *= 25.0f; break;                     // one outlier
      case 1: std::fill(v, v + n, 0.0f); break;                 // all zero
      case 2: std::fill(v, v + n, -0.75f); break;               // constant, negative
      case 3: std::fill(v, v + n, 0.5f); break;                 // constant, positive
      case 4: for (int i = 0; i < n; ++i) v[i] *= 1e-17f; break;  // below the all-zero threshold
      case 5: for (int i = 0; i < n; ++i) v[i] *= 3e4f; break;    // large
      case 6: for (int i = 0; i < n; ++i) v[i] = std::fabs(v[i]); break;  // all positive
      case 7: v[n / 2] = std::numeric_limits<float>::quiet_NaN(); break;
      case 8: for (int i = 0; i < n; ++i) v[i] = std::round(v[i] * 2.0f) / 2.0f; break;  // ties
      default: break;
    }
  }
  return x;
}

std::vector<float> weights_for(const std::vector<float>& x, uint32_t seed) {
  std::mt19937 rng(seed);
  std::exponential_distribution<float> e(1.0f);
  std::vector<float> w(x.size());
  for (size_t i = 0; i < x.size(); ++i) w[i] = e(rng) * std::sqrt(0.1f + x[i] * x[i]);
  for (size_t i = 0; i < w.size(); i += 37) w[i] = 0.0f;  // zero importance here and there
  return w;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

struct AffineCase {
  const char* caller;
  int n, nmax;
  float rmin, rdelta;
  int nstep;
  bool use_mad;
};

// The parameter sets of the encoders (q2_k.cpp, k_quant_search.cpp for
// Q4_K/Q5_K), plus nstep 0 (the min-max fit alone).
const AffineCase kAffineCases[] = {
    {"q2_K plain", 16, 3, -0.5f, 0.1f, 15, true},   {"q2_K imatrix", 16, 3, -0.9f, 0.05f, 36, false},
    {"q4_K plain", 32, 15, -1.0f, 0.1f, 20, false}, {"q4_K/q5_K imatrix", 32, 15, -0.9f, 0.05f, 36, false},
    {"q5_K plain", 32, 31, -0.5f, 0.1f, 15, false}, {"q5_K imatrix", 32, 31, -0.9f, 0.05f, 36, false},
    {"nstep 0", 32, 15, -1.0f, 0.1f, 0, false},
};

using AffineX8 = void (*)(int, int, const float*, const float*, uint8_t*, float*, float*, float, float, int, bool);
using SymmetricX8 = void (*)(int, int, const float*, const float*, int8_t*, float*);
using RefineX8 = void (*)(int, int, const float*, int8_t*, float*);

struct Variant {
  const char* name;
  AffineX8 affine;
  SymmetricX8 symmetric;
  RefineX8 refine;
};

std::vector<Variant> variants() {
  std::vector<Variant> v = {
      {"portable", k_search_affine_x8_portable, k_search_symmetric_x8_portable, k_search_symmetric_refine_x8_portable},
      {"dispatched", k_search_affine_x8, k_search_symmetric_x8, k_search_symmetric_refine_x8}};
  if (detected_isa() >= Isa::kAvx2)
    v.push_back({"avx2", k_search_affine_x8_avx2, k_search_symmetric_x8_avx2, k_search_symmetric_refine_x8_avx2});
  return v;
}

constexpr int kGroups = 60;

TEST(KQuantSearchX8, AffineEqualsTheScalarSearchBitForBit) {
  for (const Variant& var : variants()) {
    for (const AffineCase& c : kAffineCases) {
      const auto x = sub_blocks(c.n, kGroups, 11u + static_cast<uint32_t>(c.n + c.nmax));
      const auto w = weights_for(x, 5);
      int checked = 0;
      for (int g = 0; g < kGroups; ++g) {
        const float* xg = x.data() + static_cast<size_t>(g) * kS * c.n;
        const float* wg = w.data() + static_cast<size_t>(g) * kS * c.n;
        uint8_t L[kS * 32], L_ref[32];
        float scales[kS], neg_mins[kS];
        var.affine(c.n, c.nmax, xg, wg, L, scales, neg_mins, c.rmin, c.rdelta, c.nstep, c.use_mad);
        for (int s = 0; s < kS; ++s) {
          float neg_min_ref = 0.0f;
          const float scale_ref = k_search_affine(c.n, c.nmax, xg + s * c.n, wg + s * c.n, L_ref, &neg_min_ref,
                                                  c.rmin, c.rdelta, c.nstep, c.use_mad);
          const std::string where = std::string(var.name) + " " + c.caller + " group " + std::to_string(g) +
                                    " lane " + std::to_string(s);
          EXPECT_TRUE(same_bits(scales[s], scale_ref)) << where << ": scale " << scales[s] << " vs " << scale_ref;
          EXPECT_TRUE(same_bits(neg_mins[s], neg_min_ref)) << where << ": min " << neg_mins[s] << " vs " << neg_min_ref;
          EXPECT_EQ(0, std::memcmp(L + s * c.n, L_ref, static_cast<size_t>(c.n))) << where << ": levels";
          ++checked;
        }
      }
      EXPECT_EQ(checked, kGroups * kS);
    }
  }
}

TEST(KQuantSearchX8, SymmetricEqualsTheScalarSearchBitForBit) {
  // Q6_K (nmax 32, with and without importance), Q3_K with importance
  // (nmax 4), and 32-long sub-blocks.
  const struct {
    int n, nmax;
    bool weighted;
  } cases[] = {{16, 32, false}, {16, 32, true}, {16, 4, true}, {32, 32, false}, {32, 4, true}};
  for (const Variant& var : variants()) {
    for (const auto& c : cases) {
      const auto x = sub_blocks(c.n, kGroups, 21u + static_cast<uint32_t>(c.n * c.nmax));
      const auto w = weights_for(x, 9);
      for (int g = 0; g < kGroups; ++g) {
        const float* xg = x.data() + static_cast<size_t>(g) * kS * c.n;
        const float* wg = c.weighted ? w.data() + static_cast<size_t>(g) * kS * c.n : nullptr;
        int8_t L[kS * 32], L_ref[32];
        float scales[kS];
        var.symmetric(c.n, c.nmax, xg, wg, L, scales);
        for (int s = 0; s < kS; ++s) {
          const float scale_ref =
              k_search_symmetric(c.n, c.nmax, xg + s * c.n, wg != nullptr ? wg + s * c.n : nullptr, L_ref);
          const std::string where = std::string(var.name) + " n " + std::to_string(c.n) + " nmax " +
                                    std::to_string(c.nmax) + (c.weighted ? " weighted" : " x^2") + " group " +
                                    std::to_string(g) + " lane " + std::to_string(s);
          EXPECT_TRUE(same_bits(scales[s], scale_ref)) << where << ": scale " << scales[s] << " vs " << scale_ref;
          EXPECT_EQ(0, std::memcmp(L + s * c.n, L_ref, static_cast<size_t>(c.n))) << where << ": levels";
        }
      }
    }
  }
}

TEST(KQuantSearchX8, RefineEqualsTheScalarSearchBitForBit) {
  // Q3_K without importance (nmax 4), and other widths.
  const struct {
    int n, nmax;
  } cases[] = {{16, 4}, {32, 4}, {16, 32}};
  for (const Variant& var : variants()) {
    for (const auto& c : cases) {
      const auto x = sub_blocks(c.n, kGroups, 31u + static_cast<uint32_t>(c.n * c.nmax));
      for (int g = 0; g < kGroups; ++g) {
        const float* xg = x.data() + static_cast<size_t>(g) * kS * c.n;
        int8_t L[kS * 32], L_ref[32];
        float scales[kS];
        var.refine(c.n, c.nmax, xg, L, scales);
        for (int s = 0; s < kS; ++s) {
          const float scale_ref = k_search_symmetric_refine(c.n, c.nmax, xg + s * c.n, L_ref);
          const std::string where = std::string(var.name) + " n " + std::to_string(c.n) + " nmax " +
                                    std::to_string(c.nmax) + " group " + std::to_string(g) + " lane " +
                                    std::to_string(s);
          EXPECT_TRUE(same_bits(scales[s], scale_ref)) << where << ": scale " << scales[s] << " vs " << scale_ref;
          EXPECT_EQ(0, std::memcmp(L + s * c.n, L_ref, static_cast<size_t>(c.n))) << where << ": levels";
        }
      }
    }
  }
}

// The searches must differ from a plain one when they should: a check that
// the comparison above can fail (the lanes are not all trivially equal).
TEST(KQuantSearchX8, LanesGetTheirOwnResults) {
  const auto x = sub_blocks(32, 1, 3);
  const auto w = weights_for(x, 4);
  uint8_t L[kS * 32];
  float scales[kS], neg_mins[kS];
  k_search_affine_x8(32, 15, x.data(), w.data(), L, scales, neg_mins, -1.0f, 0.1f, 20, false);
  int distinct = 0;
  for (int s = 1; s < kS; ++s) distinct += !same_bits(scales[s], scales[0]);
  EXPECT_GE(distinct, 5);
}

}  // namespace
}  // namespace lmpack
