// The AVX2 row decoders (formats/dequantize_avx2.cpp) against their scalar
// references, bit for bit: rows encoded from Gaussian values (with and
// without importance), and rows of random bytes, which reach every level,
// every scale byte and fp16 scales that are subnormal, huge, infinite or NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "formats/bf16.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "formats/q4_k.h"
#include "formats/q6_k.h"
#include "formats/q8_0.h"

namespace lmpack {
namespace {

using DequantizeFn = void (*)(float*, const void*, int64_t);

struct Decoder {
  DType type;
  DequantizeFn scalar, avx2;
};

const Decoder kDecoders[] = {
    {DType::BF16, dequantize_row_bf16_scalar, dequantize_row_bf16_avx2},
    {DType::Q8_0, dequantize_row_q8_0_scalar, dequantize_row_q8_0_avx2},
    {DType::Q4_K, dequantize_row_q4_k_scalar, dequantize_row_q4_k_avx2},
    {DType::Q6_K, dequantize_row_q6_k_scalar, dequantize_row_q6_k_avx2},
};

// Rows that differ somewhere: the number of floats whose bits differ.
size_t differing(const std::vector<float>& a, const std::vector<float>& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
  return n;
}

TEST(DequantizeAvx2, SameFloatsAsTheScalarDecoders) {
  if (detected_isa() < Isa::kAvx2) GTEST_SKIP() << "no AVX2 on this CPU";
  const int64_t n = 4096;
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n), importance(n);
  for (auto& v : x) v = g(rng);
  for (auto& v : importance) v = std::exp(g(rng));
  for (const Decoder& d : kDecoders) {
    const size_t bytes = dtype_bytes(d.type, n);
    std::vector<std::vector<uint8_t>> rows;
    for (const float* imp : {static_cast<const float*>(nullptr), static_cast<const float*>(importance.data())}) {
      rows.emplace_back(bytes);
      format_ops(d.type).quantize_row(rows.back().data(), x.data(), n, imp);
    }
    for (int r = 0; r < 8; ++r) {
      rows.emplace_back(bytes);
      for (auto& b : rows.back()) b = static_cast<uint8_t>(rng());
    }
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<float> a(n, -1.0f), b(n, -2.0f);
      d.scalar(a.data(), rows[r].data(), n);
      d.avx2(b.data(), rows[r].data(), n);
      EXPECT_EQ(differing(a, b), 0u) << dtype_name(d.type) << " row " << r << (r < 2 ? " (encoded)" : " (random bytes)");
    }
    // The decoded rows are not trivial: the encoded Gaussian row comes back close.
    std::vector<float> y(n);
    d.avx2(y.data(), rows[0].data(), n);
    double err = 0.0, ref = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      err += (y[i] - x[i]) * (y[i] - x[i]);
      ref += x[i] * x[i];
    }
    EXPECT_LT(err / ref, 0.01) << dtype_name(d.type);
  }
}

TEST(DequantizeAvx2, Bf16TailAfterTheLastFullVector) {
  if (detected_isa() < Isa::kAvx2) GTEST_SKIP() << "no AVX2 on this CPU";
  for (const int64_t n : {1, 7, 9, 15, 33}) {
    std::vector<uint16_t> in(n);
    for (int64_t i = 0; i < n; ++i) in[i] = static_cast<uint16_t>(0x3f80 + 3 * i);
    std::vector<float> a(n), b(n);
    dequantize_row_bf16_scalar(a.data(), in.data(), n);
    dequantize_row_bf16_avx2(b.data(), in.data(), n);
    EXPECT_EQ(differing(a, b), 0u) << "n " << n;
  }
}

}  // namespace
}  // namespace lmpack
