// lmpack's encoders against REAL GGML, byte for byte: every block format
// (Q4_0 ... Q8_0, IQ4_NL, and the k-quants Q2_K ... Q6_K, without and with an
// importance vector), the Q8_0/Q8_1/Q8_K activation quantizers, the dot
// products (within float summation order), and the F16/BF16 conversions.
// GGML is libggml-base.so and libggml-cpu-x64.so (the baseline x86-64 build)
// from the npm package node-llama-cpp that scripts/install_llamacpp_check.sh
// installs into $LMPACK_LLAMACPP_DIR (default <repo>/build-llamacpp); the
// tests skip, saying so, when that package is absent. Data: Gaussian rows
// with outliers (x20 every 97th value), all-zero and tiny blocks, 4096 and
// 64 columns (k-quants: 4096 only, their blocks are 256 wide).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using QuantizeFn = size_t (*)(const float*, void*, int64_t, int64_t, const float*);
using RowFn = void (*)(const float*, void*, int64_t);
struct GgmlTraitsCpu {  // GGML's struct ggml_type_traits_cpu
  void (*from_float)(const float*, void*, int64_t);
  void (*vec_dot)(int, float*, size_t, const void*, size_t, const void*, size_t, int);
  int vec_dot_type;
  int64_t nrows;
};
using TraitsFn = const GgmlTraitsCpu* (*)(int);

std::string ggml_dir() {
  const char* env = std::getenv("LMPACK_LLAMACPP_DIR");
  const std::string root = env != nullptr && *env ? env : testing::source_dir() + "/build-llamacpp";
  return root + "/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64";
}

// The two libraries, loaded once for the whole test program.
struct Ggml {
  void* base = nullptr;
  void* cpu = nullptr;
  std::string missing;  // why GGML cannot be used ("" when it can)
  TraitsFn traits = nullptr;

  Ggml() {
    const std::string dir = ggml_dir();
    if (!std::filesystem::exists(dir + "/libggml-base.so")) {
      missing = dir + "/libggml-base.so is absent: run scripts/install_llamacpp_check.sh (tests/compat/README.md) "
                      "to compare the encoders with GGML's";
      return;
    }
    base = dlopen((dir + "/libggml-base.so").c_str(), RTLD_NOW | RTLD_GLOBAL);
    cpu = base != nullptr ? dlopen((dir + "/libggml-cpu-x64.so").c_str(), RTLD_NOW | RTLD_GLOBAL) : nullptr;
    if (cpu == nullptr) {
      missing = std::string("dlopen: ") + dlerror();
      return;
    }
    reinterpret_cast<void (*)()>(dlsym(cpu, "ggml_cpu_init"))();
    traits = reinterpret_cast<TraitsFn>(dlsym(cpu, "ggml_get_type_traits_cpu"));
  }
};

const Ggml& ggml() {
  static const Ggml g;
  return g;
}

#define REQUIRE_GGML()                                           \
  do {                                                           \
    if (!ggml().missing.empty()) GTEST_SKIP() << ggml().missing; \
  } while (0)

std::vector<float> test_rows(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (auto& v : x) v = g(rng);
  for (size_t i = 0; i < x.size(); i += 97) x[i] *= 20.0f;
  for (size_t b = 0; b < x.size() / 32; b += 23) std::fill(x.begin() + b * 32, x.begin() + b * 32 + 32, 0.0f);
  for (size_t b = 5; b < x.size() / 32; b += 29)
    for (size_t j = 0; j < 32; ++j) x[b * 32 + j] *= 1e-6f;
  return x;
}

std::vector<float> importance_vector(int64_t cols) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> imp(static_cast<size_t>(cols));
  for (auto& v : imp) v = std::exp(2.0f * g(rng));
  return imp;
}

struct BlockType {
  DType type;
  const char* ggml_quantize;
};
const BlockType kBlockTypes[] = {
    {DType::Q4_0, "quantize_q4_0"}, {DType::Q4_1, "quantize_q4_1"}, {DType::Q5_0, "quantize_q5_0"},
    {DType::Q5_1, "quantize_q5_1"}, {DType::Q8_0, "quantize_q8_0"}, {DType::IQ4_NL, "quantize_iq4_nl"},
    {DType::Q2_K, "quantize_q2_K"}, {DType::Q3_K, "quantize_q3_K"}, {DType::Q4_K, "quantize_q4_K"},
    {DType::Q5_K, "quantize_q5_K"}, {DType::Q6_K, "quantize_q6_K"}};

class GgmlBytes : public ::testing::TestWithParam<BlockType> {};

TEST_P(GgmlBytes, EncoderWritesGgmlsBytes) {
  REQUIRE_GGML();
  const BlockType& t = GetParam();
  const auto ggml_quantize = reinterpret_cast<QuantizeFn>(dlsym(ggml().base, t.ggml_quantize));
  ASSERT_NE(ggml_quantize, nullptr) << t.ggml_quantize;
  const FormatOps& ops = format_ops(t.type);
  int compared = 0;
  for (const int64_t cols : {4096, 64}) {
    if (cols % dtype_block_elements(t.type) != 0) continue;
    const int64_t rows = 262144 / cols;
    const auto x = test_rows(rows, cols, static_cast<uint32_t>(cols));
    const auto imp = importance_vector(cols);
    const size_t row_bytes = dtype_bytes(t.type, cols);
    const size_t block_bytes = static_cast<size_t>(dtype_block_bytes(t.type));
    for (const float* importance : {static_cast<const float*>(nullptr), static_cast<const float*>(imp.data())}) {
      std::vector<uint8_t> ours(row_bytes * rows), theirs(row_bytes * rows);
      ggml_quantize(x.data(), theirs.data(), rows, cols, importance);
      for (int64_t r = 0; r < rows; ++r)
        ops.quantize_row(ours.data() + r * row_bytes, x.data() + r * cols, cols, importance);
      size_t differ = 0;
      const size_t blocks = ours.size() / block_bytes;
      for (size_t b = 0; b < blocks; ++b)
        differ += std::memcmp(&ours[b * block_bytes], &theirs[b * block_bytes], block_bytes) != 0;
      EXPECT_EQ(differ, 0u) << dtype_name(t.type) << " cols " << cols << (importance ? " imatrix" : " plain") << ": "
                            << differ << " of " << blocks << " blocks differ from GGML's";
      ++compared;
    }
  }
  EXPECT_GE(compared, 2);
}

TEST_P(GgmlBytes, ActivationsAndDotAsGgml) {
  REQUIRE_GGML();
  const BlockType& t = GetParam();
  const auto ggml_quantize = reinterpret_cast<QuantizeFn>(dlsym(ggml().base, t.ggml_quantize));
  const FormatOps& ops = format_ops(t.type);
  const int64_t cols = 4096;
  const auto x = test_rows(1, cols, 3);
  std::vector<float> act(cols);
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (auto& v : act) v = g(rng);
  std::vector<uint8_t> w(dtype_bytes(t.type, cols));
  ggml_quantize(x.data(), w.data(), 1, cols, nullptr);
  const GgmlTraitsCpu* tc = ggml().traits(static_cast<int>(t.type));
  ASSERT_EQ(tc->vec_dot_type, static_cast<int>(ops.dot_type)) << dtype_name(t.type);
  std::vector<uint8_t> a_ours(dtype_bytes(ops.dot_type, cols)), a_theirs(a_ours.size());
  ggml().traits(tc->vec_dot_type)->from_float(act.data(), a_theirs.data(), cols);
  format_ops(ops.dot_type).quantize_row(a_ours.data(), act.data(), cols, nullptr);
  EXPECT_EQ(a_ours, a_theirs) << dtype_name(ops.dot_type) << " activation bytes differ";
  float theirs = 0.0f;
  tc->vec_dot(static_cast<int>(cols), &theirs, 0, w.data(), 0, a_theirs.data(), 0, 1);
  const float ours = ops.dot(cols, w.data(), a_ours.data());
  // Summation order differs: bound the difference by the sum of |terms|.
  std::vector<float> wd(cols), ad(cols);
  format_ops(t.type).dequantize_row(wd.data(), w.data(), cols);
  format_ops(ops.dot_type).dequantize_row(ad.data(), a_ours.data(), cols);
  double magnitude = 0.0;
  for (int64_t i = 0; i < cols; ++i) magnitude += std::fabs(double(wd[i]) * ad[i]);
  EXPECT_LE(std::fabs(double(ours) - theirs), 1e-5 * magnitude)
      << dtype_name(t.type) << ": dot " << ours << " vs GGML's " << theirs << " (sum of |terms| " << magnitude << ")";
}

INSTANTIATE_TEST_SUITE_P(AllBlockTypes, GgmlBytes, ::testing::ValuesIn(kBlockTypes),
                         [](const ::testing::TestParamInfo<BlockType>& info) {
                           return std::string(dtype_name(info.param.type));
                         });

TEST(GgmlFloatBytes, F16AndBf16ConversionsAsGgml) {
  REQUIRE_GGML();
  // Random bit patterns: subnormals, overflow, infinities (no NaN payloads).
  std::vector<float> f(1 << 16);
  std::mt19937 rng(3);
  std::uniform_int_distribution<uint32_t> bits;
  for (auto& v : f) {
    uint32_t u = bits(rng);
    if ((u & 0x7F800000u) == 0x7F800000u) u &= ~0x00400000u;
    std::memcpy(&v, &u, 4);
  }
  const struct {
    DType type;
    const char* ggml_row;
  } kFloatTypes[] = {{DType::F16, "ggml_fp32_to_fp16_row"}, {DType::BF16, "ggml_fp32_to_bf16_row"}};
  for (const auto& t : kFloatTypes) {
    std::vector<uint8_t> ours(f.size() * 2), theirs(f.size() * 2);
    reinterpret_cast<RowFn>(dlsym(ggml().base, t.ggml_row))(f.data(), theirs.data(), static_cast<int64_t>(f.size()));
    format_ops(t.type).quantize_row(ours.data(), f.data(), static_cast<int64_t>(f.size()), nullptr);
    size_t differ = 0;
    for (size_t i = 0; i < f.size(); ++i) differ += std::memcmp(&ours[2 * i], &theirs[2 * i], 2) != 0;
    EXPECT_EQ(differ, 0u) << dtype_name(t.type) << ": " << differ << " of " << f.size() << " conversions differ";
  }
}

}  // namespace
}  // namespace lmpack
