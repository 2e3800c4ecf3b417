// The float family through the traits table: F32/F16/BF16 encode is a
// round-to-nearest-even conversion (error within half a unit of the last
// place), and every SIMD dot of a stored row with an fp32 row equals the
// scalar reference on sizes around every vector width, including n = 0.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "formats/bf16.h"
#include "formats/f16.h"
#include "formats/format.h"
#include "formats/format_sizes.h"

namespace lmpack {
namespace {

constexpr DType kFloatTypes[] = {DType::F32, DType::F16, DType::BF16};

std::vector<float> gaussian(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, sigma);
  std::vector<float> x(n);
  for (auto& v : x) v = g(rng);
  return x;
}

TEST(FloatFormats, RoundTripWithinHalfUlp) {
  const auto x = gaussian(4099, 1);
  const struct {
    DType type;
    double rel;  // half an ulp, relative
  } cases[] = {{DType::F32, 0.0}, {DType::F16, 1.0 / 2048}, {DType::BF16, 1.0 / 256}};
  for (const auto& c : cases) {
    const FormatOps& ops = format_ops(c.type);
    std::vector<uint8_t> b(dtype_bytes(c.type, 4099));
    std::vector<float> y(4099);
    ops.quantize_row(b.data(), x.data(), 4099, nullptr);
    ops.dequantize_row(y.data(), b.data(), 4099);
    for (int i = 0; i < 4099; ++i) {
      if (std::fabs(x[i]) < 1e-4f) continue;  // F16 subnormals have absolute, not relative, error
      EXPECT_LE(std::fabs(double(y[i]) - x[i]), c.rel * std::fabs(x[i])) << dtype_name(c.type) << " " << i;
    }
  }
}

TEST(FloatFormats, SimdDotEqualsScalar) {
  const int64_t sizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000, 1031, 4096};
  for (DType t : kFloatTypes) {
    const FormatOps& ops = format_ops(t);
    EXPECT_EQ(ops.dot_type, DType::F32);
    for (int64_t n : sizes) {
      const auto wf = gaussian(n, static_cast<uint32_t>(n + 1), 4.0f);
      const auto a = gaussian(n, static_cast<uint32_t>(n + 2));
      std::vector<uint8_t> w(dtype_bytes(t, n) + 1);
      std::vector<float> wd(n);
      ops.quantize_row(w.data(), wf.data(), n, nullptr);
      ops.dequantize_row(wd.data(), w.data(), n);
      double exact = 0, terms = 0;
      for (int64_t i = 0; i < n; ++i) {
        exact += double(wd[i]) * a[i];
        terms += std::fabs(double(wd[i]) * a[i]);
      }
      const float ref = ops.dot_by_isa[0](n, w.data(), a.data());
      EXPECT_NEAR(ref, exact, 1e-5 * terms + 1e-30) << dtype_name(t) << " n " << n;
      for (int i = 1; i <= static_cast<int>(detected_isa()); ++i) {
        ASSERT_NE(ops.dot_by_isa[i], nullptr);
        const float got = ops.dot_by_isa[i](n, w.data(), a.data());
        EXPECT_NEAR(got, ref, 1e-5 * terms + 1e-30) << dtype_name(t) << " " << isa_name(static_cast<Isa>(i))
                                                    << " n " << n;
      }
    }
  }
}

TEST(FloatFormats, SimdDotReadsUnalignedRows) {
  // GGUF tensors are 32-byte aligned, but a row inside one need not be.
  const int64_t n = 77;
  const auto wf = gaussian(n, 5);
  const auto a = gaussian(n, 6);
  for (DType t : kFloatTypes) {
    const FormatOps& ops = format_ops(t);
    std::vector<uint8_t> buf(dtype_bytes(t, n) + 3);
    ops.quantize_row(buf.data() + 2, wf.data(), n, nullptr);
    const float ref = ops.dot_by_isa[0](n, buf.data() + 2, a.data());
    for (int i = 1; i <= static_cast<int>(detected_isa()); ++i)
      EXPECT_NEAR(ops.dot_by_isa[i](n, buf.data() + 2, a.data()), ref, 1e-4f) << dtype_name(t);
  }
}

TEST(FloatFormats, SimdConversionsAreByteIdentical) {
  if (detected_isa() < Isa::kAvx2) GTEST_SKIP() << "no AVX2 on this CPU";
  // Every half decodes the same (NaNs: both NaN).
  std::vector<uint16_t> halves(65536 + 5);
  for (size_t i = 0; i < halves.size(); ++i) halves[i] = static_cast<uint16_t>(i);
  std::vector<float> ref(halves.size()), got(halves.size());
  dequantize_row_f16_scalar(ref.data(), halves.data(), static_cast<int64_t>(halves.size()));
  dequantize_row_f16_avx2(got.data(), halves.data(), static_cast<int64_t>(halves.size()));
  for (size_t i = 0; i < halves.size(); ++i) {
    if (std::isnan(ref[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << i;
    } else {
      EXPECT_EQ(std::memcmp(&ref[i], &got[i], 4), 0) << "half " << i;
    }
  }
  // Random bit patterns (NaN, inf, subnormal, overflow) plus rounding ties; n = 1003 leaves a tail.
  std::mt19937 rng(9);
  std::vector<float> x(1003);
  for (size_t i = 0; i < x.size(); ++i) {
    uint32_t u = static_cast<uint32_t>(rng());
    if (i % 5 == 0) u = (u & 0x807FE000u) | 0x38001000u;  // f16 tie: half an f16 ulp below
    if (i % 7 == 0) u = (u & 0xFFFF0000u) | 0x8000u;      // bf16 tie
    std::memcpy(&x[i], &u, 4);
  }
  x[1] = 65520.0f;  // rounds up to f16 infinity
  x[2] = 65519.0f;  // stays 65504
  x[3] = 5.9604645e-8f;
  std::vector<uint8_t> a(2 * x.size()), b(2 * x.size());
  quantize_row_f16_scalar(a.data(), x.data(), static_cast<int64_t>(x.size()));
  quantize_row_f16_avx2(b.data(), x.data(), static_cast<int64_t>(x.size()));
  EXPECT_EQ(a, b);
  quantize_row_bf16_scalar(a.data(), x.data(), static_cast<int64_t>(x.size()));
  quantize_row_bf16_avx2(b.data(), x.data(), static_cast<int64_t>(x.size()));
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace lmpack
