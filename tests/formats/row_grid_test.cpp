// FormatOps::row_grid and set_row_codes (formats/format.h) for every uniform
// block grid: (a) every value quantize_row writes lies on the reported grid,
// scale * q + offset with an integer code q in [code_min, code_max], bit for
// bit; (b) any codes written with set_row_codes decode to exactly
// scale * code + offset and leave the block scales/mins untouched; (c) the
// codes recovered in (a) rewrite quantize_row's bytes exactly. Rows are
// Gaussian with varied scales, outliers, one-signed blocks and importance,
// plus real rows of ts-llama-4.9M. Bit-exactness does not hang on whether
// either side fuses scale * q + offset into an FMA: where the offset is not
// -0, the product of an fp16 scale and small integers is exact in float.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "formats/q2_k.h"
#include "formats/q3_k.h"
#include "formats/q4_0.h"
#include "formats/q4_1.h"
#include "formats/q4_k.h"
#include "formats/q5_0.h"
#include "formats/q5_1.h"
#include "formats/q5_k.h"
#include "formats/q6_k.h"
#include "formats/q8_0.h"
#include "io/llama2c.h"
#include "test_paths.h"

namespace lmpack {
namespace {

// The bytes of a block that hold its scales and mins (everything that is not
// a code), as [begin, end) ranges.
struct Range {
  size_t begin, end;
};
struct GridFormat {
  DType type;
  std::vector<Range> params;
};

const std::vector<GridFormat>& grid_formats() {
  static const std::vector<GridFormat> formats = {
      {DType::Q2_K, {{offsetof(BlockQ2_K, scales), offsetof(BlockQ2_K, qs)}, {offsetof(BlockQ2_K, d), 84}}},
      {DType::Q3_K, {{offsetof(BlockQ3_K, scales), 110}}},
      {DType::Q4_K, {{0, offsetof(BlockQ4_K, qs)}}},
      {DType::Q5_K, {{0, offsetof(BlockQ5_K, qh)}}},
      {DType::Q6_K, {{offsetof(BlockQ6_K, scales), 210}}},
      {DType::Q4_0, {{0, offsetof(BlockQ4_0, qs)}}},
      {DType::Q4_1, {{0, offsetof(BlockQ4_1, qs)}}},
      {DType::Q5_0, {{0, offsetof(BlockQ5_0, qh)}}},
      {DType::Q5_1, {{0, offsetof(BlockQ5_1, qh)}}},
      {DType::Q8_0, {{0, offsetof(BlockQ8_0, qs)}}},
  };
  return formats;
}

uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

std::vector<float> decode(const FormatOps& ops, const std::vector<uint8_t>& row, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  ops.dequantize_row(out.data(), row.data(), n);
  return out;
}

struct Tally {
  int rows = 0;        // rows checked
  int exact_rows = 0;  // rows whose bytes (c) compared exactly
  int zero_scales = 0; // elements on a zero-scale sub-block
};

// Properties (a), (b), (c) on one row x [n].
void check_row(const GridFormat& f, const std::vector<float>& x, const float* importance, std::mt19937& rng,
               Tally& tally) {
  const FormatOps& ops = format_ops(f.type);
  const std::string name(dtype_name(f.type));
  const int64_t n = static_cast<int64_t>(x.size());
  const int64_t block_elems = dtype_block_elements(f.type);
  const int64_t block_bytes = dtype_bytes(f.type, block_elems);
  std::vector<uint8_t> bytes(dtype_bytes(f.type, n));
  ops.quantize_row(bytes.data(), x.data(), n, importance);
  const std::vector<float> dec = decode(ops, bytes, n);
  std::vector<float> scale(n), offset(n);
  ops.row_grid(scale.data(), offset.data(), bytes.data(), n);

  // (a) every decoded value is on the grid.
  std::vector<int32_t> codes(n);
  bool all_scaled = true;
  for (int64_t j = 0; j < n; ++j) {
    if (scale[j] == 0.0f) {
      ASSERT_EQ(dec[j], offset[j]) << name << " element " << j;  // every code gives offset (up to ±0)
      codes[j] = std::clamp(0, ops.code_min, ops.code_max);
      all_scaled = false;
      ++tally.zero_scales;
      continue;
    }
    const float q = std::nearbyint((dec[j] - offset[j]) / scale[j]);
    ASSERT_GE(q, static_cast<float>(ops.code_min)) << name << " element " << j;
    ASSERT_LE(q, static_cast<float>(ops.code_max)) << name << " element " << j;
    codes[j] = static_cast<int32_t>(q);
    ASSERT_EQ(bits_of(dec[j]), bits_of(scale[j] * static_cast<float>(codes[j]) + offset[j]))
        << name << " element " << j << ": " << dec[j] << " vs " << scale[j] << " * " << codes[j] << " + " << offset[j];
  }

  // (c) the recovered codes rebuild quantize_row's bytes (or, across a zero
  // scale where any code decodes alike, its values).
  std::vector<uint8_t> rebuilt = bytes;
  ops.set_row_codes(rebuilt.data(), codes.data(), n);
  if (all_scaled) {
    ASSERT_EQ(rebuilt, bytes) << name;
    ++tally.exact_rows;
  } else {
    const std::vector<float> again = decode(ops, rebuilt, n);
    for (int64_t j = 0; j < n; ++j) ASSERT_EQ(again[j], dec[j]) << name << " element " << j;
  }

  // (b) random codes, the extremes included, decode to scale * code + offset
  // exactly; the scale/min bytes and so the grid stay as they were.
  std::uniform_int_distribution<int32_t> pick(ops.code_min, ops.code_max);
  std::vector<int32_t> random_codes(n);
  for (int64_t j = 0; j < n; ++j) random_codes[j] = pick(rng);
  random_codes[0] = ops.code_min;
  random_codes[n - 1] = ops.code_max;
  std::vector<uint8_t> rewritten = bytes;
  ops.set_row_codes(rewritten.data(), random_codes.data(), n);
  const std::vector<float> dec2 = decode(ops, rewritten, n);
  for (int64_t j = 0; j < n; ++j)
    ASSERT_EQ(bits_of(dec2[j]), bits_of(scale[j] * static_cast<float>(random_codes[j]) + offset[j]))
        << name << " element " << j << " code " << random_codes[j];
  for (int64_t b = 0; b < n / block_elems; ++b)
    for (const Range& r : f.params)
      for (size_t k = r.begin; k < r.end; ++k)
        ASSERT_EQ(rewritten[b * block_bytes + k], bytes[b * block_bytes + k])
            << name << " block " << b << " byte " << k;
  std::vector<float> scale2(n), offset2(n);
  ops.row_grid(scale2.data(), offset2.data(), rewritten.data(), n);
  for (int64_t j = 0; j < n; ++j) {
    ASSERT_EQ(bits_of(scale2[j]), bits_of(scale[j])) << name << " element " << j;
    ASSERT_EQ(bits_of(offset2[j]), bits_of(offset[j])) << name << " element " << j;
  }
  ++tally.rows;
}

// Row `variant` of a family: Gaussian at a spread of magnitudes, with an
// outlier, all positive, all negative, or a block of zeros.
std::vector<float> make_row(int64_t n, int variant, std::mt19937& rng) {
  std::normal_distribution<float> dist;
  const float magnitude = std::pow(10.0f, static_cast<float>(variant % 5) - 2.0f);  // 1e-2 .. 1e2
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = magnitude * dist(rng);
  switch (variant % 4) {
    case 1:
      x[n / 3] = 12.0f * magnitude;
      break;
    case 2:
      for (float& v : x) v = std::fabs(v) + 0.5f * magnitude;
      break;
    case 3:
      for (float& v : x) v = -std::fabs(v);
      break;
    default:
      break;
  }
  return x;
}

TEST(RowGrid, SetForUniformGridsOnly) {
  for (const GridFormat& f : grid_formats()) {
    const FormatOps& ops = format_ops(f.type);
    EXPECT_NE(ops.row_grid, nullptr) << dtype_name(f.type);
    EXPECT_NE(ops.set_row_codes, nullptr) << dtype_name(f.type);
    EXPECT_LT(ops.code_min, ops.code_max) << dtype_name(f.type);
  }
  EXPECT_EQ(format_ops(DType::Q4_K).code_min, 0);
  EXPECT_EQ(format_ops(DType::Q4_K).code_max, 15);
  EXPECT_EQ(format_ops(DType::Q8_0).code_min, -128);
  EXPECT_EQ(format_ops(DType::Q8_0).code_max, 127);
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::IQ4_NL, DType::Q8_1, DType::Q8_K}) {
    EXPECT_EQ(format_ops(t).row_grid, nullptr) << dtype_name(t);
    EXPECT_EQ(format_ops(t).set_row_codes, nullptr) << dtype_name(t);
  }
}

TEST(RowGrid, RandomRowsOnGridAndRewritable) {
  for (const GridFormat& f : grid_formats()) {
    const int64_t block = dtype_block_elements(f.type);
    std::mt19937 rng(17);
    std::lognormal_distribution<float> imp(0.0f, 2.0f);
    Tally tally;
    for (int64_t nblocks = 1; nblocks <= 3; ++nblocks) {
      for (int variant = 0; variant < 10; ++variant) {
        const int64_t n = nblocks * block;
        const std::vector<float> x = make_row(n, variant, rng);
        std::vector<float> importance(static_cast<size_t>(n));
        for (float& v : importance) v = imp(rng);
        check_row(f, x, nullptr, rng, tally);
        if (HasFatalFailure()) return;
        check_row(f, x, importance.data(), rng, tally);
        if (HasFatalFailure()) return;
      }
    }
    // A row with a block of zeros: zero scales somewhere, still consistent.
    std::vector<float> x = make_row(2 * block, 0, rng);
    std::fill(x.begin(), x.begin() + block, 0.0f);
    check_row(f, x, nullptr, rng, tally);
    if (HasFatalFailure()) return;
    EXPECT_EQ(tally.rows, 61) << dtype_name(f.type);
    // Property (c) must really have compared bytes for the ordinary rows.
    EXPECT_GE(tally.exact_rows, 50) << dtype_name(f.type);
    std::printf("%s: %d rows, %d compared byte for byte, %d elements on zero scales\n",
                std::string(dtype_name(f.type)).c_str(), tally.rows, tally.exact_rows, tally.zero_scales);
  }
}

TEST(RowGrid, RealWeightsOnGridAndRewritable) {
  LMPACK_REQUIRE_SHARED();
  const Llama2cFile file = read_llama2c(testing::shared_path("models/ts-llama-4.9M/ts-llama-4.9M.bin"));
  const TensorInfo wq = llama2c_layer_slice(file.tensor("wq"), 0, "wq0");
  const int64_t cols = wq.cols();
  ASSERT_EQ(cols % 256, 0);
  const float* data = reinterpret_cast<const float*>(wq.data);
  for (const GridFormat& f : grid_formats()) {
    std::mt19937 rng(5);
    Tally tally;
    for (int64_t r = 0; r < 8; ++r) {
      const std::vector<float> x(data + r * cols, data + (r + 1) * cols);
      check_row(f, x, nullptr, rng, tally);
      if (HasFatalFailure()) return;
    }
    EXPECT_EQ(tally.exact_rows, 8) << dtype_name(f.type);
  }
}

}  // namespace
}  // namespace lmpack
