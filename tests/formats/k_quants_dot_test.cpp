// Dot products of the k-quants with Q8_K activations: the scalar reference
// against decode-then-multiply, and every SIMD variant the CPU can run
// against the scalar one, over edge sizes (1, 2, 3, 7, 17 super-blocks), raw
// random block bytes (every quant and scale bit pattern, the extremes
// included), saturated activations (all +-127) and all-zero blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "formats/k_quant_dots.h"
#include "formats/q8_k.h"

namespace lmpack {
namespace {

constexpr DType kTypes[] = {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};
constexpr int64_t kSizes[] = {1, 2, 3, 7, 17};  // super-blocks

std::vector<float> gaussian(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = nd(rng);
  return v;
}

std::vector<uint8_t> quantize(DType type, const std::vector<float>& x) {
  std::vector<uint8_t> q(dtype_bytes(type, static_cast<int64_t>(x.size())));
  format_ops(type).quantize_row(q.data(), x.data(), static_cast<int64_t>(x.size()), nullptr);
  return q;
}

std::vector<float> decode(DType type, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  format_ops(type).dequantize_row(y.data(), q.data(), n);
  return y;
}

// Random bytes for every field, then the fp16 scales (d, dmin) replaced by
// random finite values in [-2, 2] so that the dot product stays finite.
std::vector<uint8_t> random_blocks(DType type, int64_t blocks, uint32_t seed) {
  std::mt19937 rng(seed);
  const size_t bb = dtype_bytes(type, kQK_K);
  std::vector<uint8_t> q(bb * static_cast<size_t>(blocks));
  for (uint8_t& v : q) v = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t* blk = q.data() + bb * static_cast<size_t>(b);
    auto put = [&](size_t off) {
      const uint16_t h = f32_to_fp16(u(rng));
      std::memcpy(blk + off, &h, 2);
    };
    switch (type) {
      case DType::Q2_K: put(80); put(82); break;
      case DType::Q3_K: put(108); break;
      case DType::Q4_K: case DType::Q5_K: put(0); put(2); break;
      case DType::Q6_K: put(208); break;
      default: break;
    }
  }
  return q;
}

// Q8_K blocks with given quants (bsums made consistent) and scale d.
std::vector<BlockQ8_K> q8_blocks(int64_t blocks, uint32_t seed, int mode) {
  std::mt19937 rng(seed);
  std::vector<BlockQ8_K> a(static_cast<size_t>(blocks));
  for (BlockQ8_K& blk : a) {
    blk.d = std::uniform_real_distribution<float>(0.001f, 0.05f)(rng);
    for (int i = 0; i < kQK_K; ++i) {
      const int v = mode == 0 ? static_cast<int>(rng() % 255) - 127 : mode == 1 ? 127 : -127;
      blk.qs[i] = static_cast<int8_t>(v);
    }
    for (int j = 0; j < 16; ++j) {
      int s = 0;
      for (int i = 0; i < 16; ++i) s += blk.qs[16 * j + i];
      blk.bsums[j] = static_cast<int16_t>(s);
    }
  }
  return a;
}

// sum |w_i a_i| of the decoded rows: the scale of float rounding error.
double abs_dot(const std::vector<float>& w, const std::vector<float>& a) {
  double s = 0.0;
  for (size_t i = 0; i < w.size(); ++i) s += std::fabs(static_cast<double>(w[i]) * a[i]);
  return s;
}

double exact_dot(const std::vector<float>& w, const std::vector<float>& a) {
  double s = 0.0;
  for (size_t i = 0; i < w.size(); ++i) s += static_cast<double>(w[i]) * a[i];
  return s;
}

// Every variant this CPU runs agrees with the scalar one (up to float
// rounding of the per-block sums) and the scalar one with decode-then-multiply.
void check_variants(DType type, int64_t n, const void* w, const BlockQ8_K* a, const char* what) {
  const FormatOps& ops = format_ops(type);
  std::vector<uint8_t> wbytes(static_cast<const uint8_t*>(w), static_cast<const uint8_t*>(w) + dtype_bytes(type, n));
  const std::vector<float> wd = decode(type, wbytes, n);
  std::vector<float> ad(static_cast<size_t>(n));
  dequantize_row_q8_k(ad.data(), a, n);
  const double scale = abs_dot(wd, ad) + 1e-30;
  const float scalar = ops.dot_by_isa[static_cast<int>(Isa::kScalar)](n, w, a);
  ASSERT_TRUE(std::isfinite(scalar)) << dtype_name(type) << " " << what;
  EXPECT_LE(std::fabs(scalar - exact_dot(wd, ad)), 2e-6 * scale)
      << dtype_name(type) << " " << what << " n=" << n << ": scalar vs decoded";
  for (int isa = 1; isa <= static_cast<int>(detected_isa()); ++isa) {
    const DotFn f = ops.dot_by_isa[isa];
    ASSERT_NE(f, nullptr) << dtype_name(type) << " has no " << isa_name(static_cast<Isa>(isa)) << " dot";
    const float v = f(n, w, a);
    EXPECT_LE(std::fabs(v - scalar), 1e-6 * scale)
        << dtype_name(type) << " " << what << " n=" << n << " " << isa_name(static_cast<Isa>(isa)) << " " << v
        << " vs scalar " << scalar;
  }
}

TEST(KQuantDot, VariantsMatchScalarOnEdgeSizes) {
  for (DType t : kTypes) {
    for (int64_t blocks : kSizes) {
      const int64_t n = blocks * kQK_K;
      const std::vector<uint8_t> w = quantize(t, gaussian(n, static_cast<uint32_t>(blocks)));
      std::vector<BlockQ8_K> a(static_cast<size_t>(blocks));
      const std::vector<float> act = gaussian(n, static_cast<uint32_t>(100 + blocks));
      quantize_row_q8_k(a.data(), act.data(), n, nullptr);
      check_variants(t, n, w.data(), a.data(), "gaussian");
    }
  }
}

TEST(KQuantDot, VariantsMatchScalarOnRandomBytes) {
  for (DType t : kTypes) {
    for (int64_t blocks : kSizes) {
      const int64_t n = blocks * kQK_K;
      for (int mode = 0; mode < 3; ++mode) {  // random, all +127, all -127 activations
        const std::vector<uint8_t> w = random_blocks(t, blocks, static_cast<uint32_t>(7 * blocks + mode));
        const std::vector<BlockQ8_K> a = q8_blocks(blocks, static_cast<uint32_t>(blocks + 50 * mode), mode);
        check_variants(t, n, w.data(), a.data(), mode == 0 ? "random bytes" : "saturated activations");
      }
    }
  }
}

// All quant bits set and the largest scales: the int16/int32 headroom of
// the SIMD paths.
TEST(KQuantDot, ExtremeQuantsAndScales) {
  for (DType t : kTypes) {
    const int64_t blocks = 3, n = blocks * kQK_K;
    std::vector<uint8_t> w = random_blocks(t, blocks, 9);
    const size_t bb = dtype_bytes(t, kQK_K);
    for (int64_t b = 0; b < blocks; ++b) {
      uint8_t* blk = w.data() + bb * static_cast<size_t>(b);
      // Every byte except the fp16 scales at 0xFF (Q6_K's int8 scales: -1;
      // Q3_K's scales: +31), then Q6_K's scales at -128 for the first block.
      std::vector<uint8_t> keep(blk, blk + bb);
      std::memset(blk, 0xFF, bb);
      auto restore = [&](size_t off) { std::memcpy(blk + off, keep.data() + off, 2); };
      switch (t) {
        case DType::Q2_K: restore(80); restore(82); break;
        case DType::Q3_K: restore(108); break;
        case DType::Q4_K: case DType::Q5_K: restore(0); restore(2); break;
        case DType::Q6_K: restore(208); if (b == 0) std::memset(blk + 192, 0x80, 16); break;
        default: break;
      }
    }
    for (int mode = 1; mode < 3; ++mode) {
      const std::vector<BlockQ8_K> a = q8_blocks(blocks, 3, mode);
      check_variants(t, n, w.data(), a.data(), "extreme");
    }
  }
}

TEST(KQuantDot, ZeroBlocksGiveZero) {
  for (DType t : kTypes) {
    for (int64_t blocks : kSizes) {
      const int64_t n = blocks * kQK_K;
      const std::vector<float> zeros(static_cast<size_t>(n), 0.0f);
      const std::vector<uint8_t> w = quantize(t, zeros);
      std::vector<BlockQ8_K> a(static_cast<size_t>(blocks));
      quantize_row_q8_k(a.data(), zeros.data(), n, nullptr);
      const std::vector<uint8_t> w2 = quantize(t, gaussian(n, 3));
      for (int isa = 0; isa <= static_cast<int>(detected_isa()); ++isa) {
        const DotFn f = format_ops(t).dot_by_isa[isa];
        EXPECT_EQ(f(n, w.data(), a.data()), 0.0f) << dtype_name(t);
        EXPECT_EQ(f(n, w2.data(), a.data()), 0.0f) << dtype_name(t) << ": zero activations";
      }
    }
  }
}

// The path a matmul takes: dot(quantize(w), quantize_q8_k(x)) through the
// table's chosen `dot` is close to the float dot product of the originals.
TEST(KQuantDot, QuantizedDotApproximatesFloatDot) {
  const int64_t n = 16 * kQK_K;
  const std::vector<float> w = gaussian(n, 21), x = gaussian(n, 22);
  std::vector<BlockQ8_K> a(16);
  quantize_row_q8_k(a.data(), x.data(), n, nullptr);
  const double ref = exact_dot(w, x);
  const double norm = std::sqrt(static_cast<double>(n));  // |w| |x| / sqrt(n) scale of the dot
  // Tolerances: a few times the expected error sqrt(n) * rel_rmse(type).
  const double tol[] = {1.5, 0.8, 0.4, 0.25, 0.15};
  int i = 0;
  for (DType t : kTypes) {
    const std::vector<uint8_t> q = quantize(t, w);
    const float v = format_ops(t).dot(n, q.data(), a.data());
    EXPECT_NEAR(v, ref, tol[i++] * norm) << dtype_name(t);
  }
}

TEST(KQuantDot, Q8KDotQ8K) {
  const int64_t n = 3 * kQK_K;
  const std::vector<float> x = gaussian(n, 31), y = gaussian(n, 32);
  std::vector<BlockQ8_K> qx(3), qy(3);
  quantize_row_q8_k(qx.data(), x.data(), n, nullptr);
  quantize_row_q8_k(qy.data(), y.data(), n, nullptr);
  std::vector<float> dx(static_cast<size_t>(n)), dy(static_cast<size_t>(n));
  dequantize_row_q8_k(dx.data(), qx.data(), n);
  dequantize_row_q8_k(dy.data(), qy.data(), n);
  EXPECT_NEAR(format_ops(DType::Q8_K).dot(n, qx.data(), qy.data()), exact_dot(dx, dy), 1e-5 * abs_dot(dx, dy));
}

}  // namespace
}  // namespace lmpack
