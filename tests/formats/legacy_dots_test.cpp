// Dot products of the 32-element block formats with their activation
// formats, and the Q8_0/Q8_1 activation quantizers: every SIMD variant the
// CPU runs equals the scalar reference (dots up to float summation order,
// quantizers byte for byte) on edge block counts and on blocks with zeros,
// huge and tiny scales, and random raw quants; the scalar dot equals the dot
// of the decoded rows; and the traits table covers every type.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/error.h"
#include "formats/dots_x86.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "formats/q8_0.h"
#include "formats/q8_1.h"

namespace lmpack {
namespace {

constexpr DType kWeightTypes[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::IQ4_NL};
constexpr int64_t kBlockCounts[] = {1, 2, 3, 7, 8, 33};

std::vector<Isa> runnable_isas() {
  std::vector<Isa> out;
  for (int i = 1; i <= static_cast<int>(detected_isa()); ++i) out.push_back(static_cast<Isa>(i));
  return out;
}

// Blocks of varied character: Gaussian, all zero, one huge outlier, a tiny
// scale (fp16 subnormal territory), a constant positive block.
std::vector<float> varied_row(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n);
  for (int64_t b = 0; b < n / 32; ++b) {
    float* y = x.data() + b * 32;
    const int kind = static_cast<int>((b + seed) % 5);
    for (int j = 0; j < 32; ++j) y[j] = g(rng);
    if (kind == 1) std::fill(y, y + 32, 0.0f);
    if (kind == 2) y[rng() % 32] = 1000.0f;
    if (kind == 3)
      for (int j = 0; j < 32; ++j) y[j] *= 1e-6f;
    if (kind == 4) std::fill(y, y + 32, 2.5f);
  }
  return x;
}

struct Rows {
  std::vector<uint8_t> w, a;
  std::vector<float> w_dec, a_dec;
};

Rows make_rows(DType type, int64_t n, uint32_t seed, bool importance) {
  const FormatOps& ops = format_ops(type);
  const FormatOps& act = format_ops(ops.dot_type);
  Rows r;
  const auto wf = varied_row(n, seed);
  const auto af = varied_row(n, seed + 1000);
  std::vector<float> imp(n);
  for (int64_t i = 0; i < n; ++i) imp[i] = 0.1f + static_cast<float>(i % 7);
  r.w.resize(dtype_bytes(type, n));
  r.a.resize(dtype_bytes(ops.dot_type, n));
  ops.quantize_row(r.w.data(), wf.data(), n, importance ? imp.data() : nullptr);
  act.quantize_row(r.a.data(), af.data(), n, nullptr);
  r.w_dec.resize(n);
  r.a_dec.resize(n);
  ops.dequantize_row(r.w_dec.data(), r.w.data(), n);
  act.dequantize_row(r.a_dec.data(), r.a.data(), n);
  return r;
}

double abs_terms(const Rows& r) {
  double s = 0;
  for (size_t i = 0; i < r.w_dec.size(); ++i) s += std::fabs(double(r.w_dec[i]) * r.a_dec[i]);
  return s;
}

TEST(LegacyDots, SimdEqualsScalarOnEdgeSizes) {
  const auto isas = runnable_isas();
  if (isas.empty()) GTEST_SKIP() << "no SIMD level on this CPU";
  for (DType t : kWeightTypes) {
    const FormatOps& ops = format_ops(t);
    for (int64_t nb : kBlockCounts) {
      for (bool imp : {false, true}) {
        const int64_t n = nb * 32;
        const Rows r = make_rows(t, n, static_cast<uint32_t>(nb * 31 + imp), imp);
        const float ref = ops.dot_by_isa[0](n, r.w.data(), r.a.data());
        const double tol = 1e-5 * abs_terms(r) + 1e-30;
        for (Isa isa : isas) {
          ASSERT_NE(ops.dot_by_isa[static_cast<int>(isa)], nullptr) << dtype_name(t) << " " << isa_name(isa);
          const float got = ops.dot_by_isa[static_cast<int>(isa)](n, r.w.data(), r.a.data());
          EXPECT_NEAR(got, ref, tol) << dtype_name(t) << " " << isa_name(isa) << " blocks " << nb;
        }
      }
    }
  }
}

// Random raw quant bytes (every nibble and fifth-bit pattern), random fp16
// scales and minimums; Q8 quants kept in [-127, 127] as the encoders write.
TEST(LegacyDots, SimdEqualsScalarOnRandomRawBlocks) {
  const auto isas = runnable_isas();
  if (isas.empty()) GTEST_SKIP() << "no SIMD level on this CPU";
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(-2.0f, 2.0f);
  for (DType t : kWeightTypes) {
    const FormatOps& ops = format_ops(t);
    const int64_t nb = 37, n = nb * 32;
    const int64_t wb = dtype_block_bytes(t);
    const int64_t ab = dtype_block_bytes(ops.dot_type);
    std::vector<uint8_t> w(nb * wb), a(nb * ab);
    for (auto& v : w) v = static_cast<uint8_t>(byte(rng));
    for (auto& v : a) v = static_cast<uint8_t>(byte(rng) % 255 + 129);  // int8 -127..127
    for (int64_t b = 0; b < nb; ++b) {
      const int n_halves = (t == DType::Q4_1 || t == DType::Q5_1) ? 2 : 1;
      for (int k = 0; k < n_halves; ++k) {
        const uint16_t h = f32_to_fp16(scale(rng));
        std::memcpy(&w[b * wb + 2 * k], &h, 2);
      }
      if (t == DType::Q8_0)
        for (int j = 0; j < 32; ++j) w[b * wb + 2 + j] = static_cast<uint8_t>(w[b * wb + 2 + j] % 255 + 129);
      const int a_halves = ops.dot_type == DType::Q8_1 ? 2 : 1;
      for (int k = 0; k < a_halves; ++k) {
        const uint16_t h = f32_to_fp16(scale(rng));
        std::memcpy(&a[b * ab + 2 * k], &h, 2);
      }
    }
    Rows r{w, a, std::vector<float>(n), std::vector<float>(n)};
    ops.dequantize_row(r.w_dec.data(), w.data(), n);
    format_ops(ops.dot_type).dequantize_row(r.a_dec.data(), a.data(), n);
    // Q8_1's s is free here, so bound its term separately.
    double s_terms = 0;
    if (ops.dot_type == DType::Q8_1)
      for (int64_t b = 0; b < nb; ++b) {
        uint16_t m, s;
        std::memcpy(&m, &w[b * wb + 2], 2);
        std::memcpy(&s, &a[b * ab + 2], 2);
        s_terms += std::fabs(double(fp16_to_f32(m)) * fp16_to_f32(s));
      }
    const float ref = ops.dot_by_isa[0](n, w.data(), a.data());
    for (Isa isa : isas) {
      const float got = ops.dot_by_isa[static_cast<int>(isa)](n, w.data(), a.data());
      EXPECT_NEAR(got, ref, 1e-5 * (abs_terms(r) + s_terms)) << dtype_name(t) << " " << isa_name(isa);
    }
  }
}

TEST(LegacyDots, ScalarDotEqualsDecodedRows) {
  for (DType t : kWeightTypes) {
    const FormatOps& ops = format_ops(t);
    for (int64_t nb : {1, 5, 32}) {
      const int64_t n = nb * 32;
      const Rows r = make_rows(t, n, static_cast<uint32_t>(nb + 17), false);
      double expect = 0;
      for (int64_t i = 0; i < n; ++i) expect += double(r.w_dec[i]) * r.a_dec[i];
      const float got = ops.dot_by_isa[0](n, r.w.data(), r.a.data());
      // Q8_1 applies the minimum through its stored s = fp16(d * sum(q)),
      // not through the decoded activations (d rounds to fp16 on its own, even
      // to 0 for tiny blocks): model that with m * (s - sum of the block).
      double ms_terms = 0;
      if (ops.dot_type == DType::Q8_1)
        for (int64_t b = 0; b < nb; ++b) {
          uint16_t m, s;
          std::memcpy(&m, &r.w[b * dtype_block_bytes(t) + 2], 2);
          std::memcpy(&s, &r.a[b * 36 + 2], 2);
          double block_sum = 0;
          for (int j = 0; j < 32; ++j) block_sum += r.a_dec[b * 32 + j];
          expect += double(fp16_to_f32(m)) * (fp16_to_f32(s) - block_sum);
          ms_terms += std::fabs(double(fp16_to_f32(m)) * fp16_to_f32(s));
        }
      EXPECT_NEAR(got, expect, 1e-5 * (abs_terms(r) + ms_terms) + 1e-30) << dtype_name(t) << " blocks " << nb;
      EXPECT_NEAR(ops.dot(n, r.w.data(), r.a.data()), got, 1e-5 * (abs_terms(r) + ms_terms) + 1e-30);
    }
  }
}

TEST(LegacyDots, QuantizedDotApproximatesFloatDot) {
  // End to end: dot(quantize(w), quantize_act(a)) against the fp32 dot.
  const int64_t n = 4096;
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> w(n), a(n);
  for (auto& v : w) v = g(rng);
  for (auto& v : a) v = g(rng);
  double exact = 0, norm = 0;
  for (int64_t i = 0; i < n; ++i) {
    exact += double(w[i]) * a[i];
    norm += double(w[i]) * w[i];
  }
  for (DType t : kWeightTypes) {
    const FormatOps& ops = format_ops(t);
    std::vector<uint8_t> wq(dtype_bytes(t, n)), aq(dtype_bytes(ops.dot_type, n));
    ops.quantize_row(wq.data(), w.data(), n, nullptr);
    format_ops(ops.dot_type).quantize_row(aq.data(), a.data(), n, nullptr);
    // Error of a sum of n products with ~10% relative noise: about 0.1 * sqrt(n) * |w||a|/n.
    EXPECT_NEAR(ops.dot(n, wq.data(), aq.data()), exact, 0.15 * std::sqrt(norm)) << dtype_name(t);
  }
}

TEST(LegacyDots, ActivationQuantizersAreByteIdentical) {
  std::mt19937 rng(1);
  std::normal_distribution<float> g(0.0f, 3.0f);
  for (int64_t nb : {1, 2, 3, 7, 33, 128}) {
    const int64_t n = nb * 32;
    std::vector<float> x(n);
    for (auto& v : x) v = g(rng);
    // Exact .5 ties (block with amax 127 -> d = 1), zeros, a huge block.
    for (int j = 0; j < 32; ++j) x[j] = j == 0 ? 127.0f : static_cast<float>(j) - 15.5f;
    if (nb > 1) std::fill(x.begin() + 32, x.begin() + 64, 0.0f);
    if (nb > 2) x[70] = 3e30f;
    std::vector<uint8_t> ref0(dtype_bytes(DType::Q8_0, n)), ref1(dtype_bytes(DType::Q8_1, n));
    quantize_row_q8_0_scalar(ref0.data(), x.data(), n);
    quantize_row_q8_1_scalar(ref1.data(), x.data(), n);
    EXPECT_EQ(static_cast<int8_t>(ref0[2 + 1]), -15);  // -14.5 -> -15 (half away from zero)
    EXPECT_EQ(static_cast<int8_t>(ref0[2 + 16]), 1);   // 0.5 -> 1
    for (Isa isa : runnable_isas()) {
      std::vector<uint8_t> got0(ref0.size()), got1(ref1.size());
      if (isa == Isa::kAvx2) {
        quantize_row_q8_0_avx2(got0.data(), x.data(), n);
        quantize_row_q8_1_avx2(got1.data(), x.data(), n);
      } else {
        quantize_row_q8_0_avx512(got0.data(), x.data(), n);
        quantize_row_q8_1_avx512(got1.data(), x.data(), n);
      }
      EXPECT_EQ(got0, ref0) << isa_name(isa) << " blocks " << nb;
      EXPECT_EQ(got1, ref1) << isa_name(isa) << " blocks " << nb;
    }
  }
}

TEST(FormatTable, LegacyAndFloatRows) {
  struct Want {
    DType type, dot_type;
  };
  const Want wants[] = {{DType::F32, DType::F32},   {DType::F16, DType::F32},     {DType::BF16, DType::F32},
                        {DType::Q4_0, DType::Q8_0}, {DType::Q4_1, DType::Q8_1},   {DType::Q5_0, DType::Q8_0},
                        {DType::Q5_1, DType::Q8_1}, {DType::Q8_0, DType::Q8_0},   {DType::IQ4_NL, DType::Q8_0},
                        {DType::Q8_1, DType::Q8_1}};
  for (const Want& w : wants) {
    const FormatOps* ops = find_format_ops(w.type);
    ASSERT_NE(ops, nullptr) << dtype_name(w.type);
    EXPECT_EQ(ops->type, w.type);
    EXPECT_EQ(ops->dot_type, w.dot_type) << dtype_name(w.type);
    EXPECT_NE(ops->quantize_row, nullptr) << dtype_name(w.type);
    EXPECT_NE(ops->dequantize_row, nullptr) << dtype_name(w.type);
    ASSERT_NE(ops->dot_by_isa[0], nullptr) << dtype_name(w.type);
    // dot is the highest variant at or below the active level (capped at AVX2
    // for the block formats, whose AVX2 kernels measured faster).
    const bool block = w.type != DType::F32 && w.type != DType::F16 && w.type != DType::BF16;
    int top = static_cast<int>(active_isa());
    if (block) top = std::min(top, static_cast<int>(Isa::kAvx2));
    DotFn best = nullptr;
    for (int i = top; i >= 0 && best == nullptr; --i) best = ops->dot_by_isa[i];
    EXPECT_EQ(ops->dot, best) << dtype_name(w.type);
    if (w.type != DType::Q8_1) {
      EXPECT_NE(ops->dot_by_isa[1], nullptr) << dtype_name(w.type);
      EXPECT_NE(ops->dot_by_isa[2], nullptr) << dtype_name(w.type);
    }
    EXPECT_NE(find_format_ops(w.dot_type), nullptr) << dtype_name(w.type);
  }
  EXPECT_EQ(find_format_ops(DType::I32), nullptr);
  EXPECT_THROW(format_ops(DType::I32), Error);
}

}  // namespace
}  // namespace lmpack
