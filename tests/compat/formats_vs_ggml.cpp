// Byte-for-byte check of lmpack's float and 32-element block encoders, its
// Q8_0/Q8_1 activation quantizers and its dot products against REAL GGML:
// libggml-base.so (quantize_q4_0 ... quantize_iq4_nl, ggml_fp32_to_fp16_row,
// ggml_fp32_to_bf16_row) and a libggml-cpu-*.so backend (from_float, vec_dot)
// as shipped prebuilt by the npm package node-llama-cpp
// (scripts/install_llamacpp_check.sh). Not part of the CMake build, since
// GGML is not a dependency; build and run by hand:
//
//   B=build-NAME; L=<node_modules>/@node-llama-cpp/linux-x64/bins/linux-x64
//   g++ -std=c++20 -O2 -march=x86-64-v3 -Isrc tests/compat/formats_vs_ggml.cpp \
//     $B/liblmpack_formats.a $B/liblmpack_kernels.a $B/liblmpack_core.a -ldl -fopenmp -o /tmp/formats_vs_ggml
//   /tmp/formats_vs_ggml $L libggml-cpu-skylakex.so
//
// Data: Gaussian rows with outliers (x20 every 97th value), all-zero blocks and
// tiny blocks, 4096 and 64 columns, without and with a random importance
// vector. Exit status: the number of checks that differ.
#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/format.h"
#include "formats/format_sizes.h"

namespace {

using namespace lmpack;

using QuantizeFn = size_t (*)(const float*, void*, int64_t, int64_t, const float*);
using RowFn = void (*)(const float*, void*, int64_t);
struct GgmlTraitsCpu {  // struct ggml_type_traits_cpu
  void (*from_float)(const float*, void*, int64_t);
  void (*vec_dot)(int, float*, size_t, const void*, size_t, const void*, size_t, int);
  int vec_dot_type;
  int64_t nrows;
};
using TraitsFn = const GgmlTraitsCpu* (*)(int);

std::vector<float> test_rows(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(rows * cols);
  for (auto& v : x) v = g(rng);
  for (size_t i = 0; i < x.size(); i += 97) x[i] *= 20.0f;
  for (size_t b = 0; b < x.size() / 32; b += 23) std::fill(x.begin() + b * 32, x.begin() + b * 32 + 32, 0.0f);
  for (size_t b = 5; b < x.size() / 32; b += 29)
    for (size_t j = 0; j < 32; ++j) x[b * 32 + j] *= 1e-6f;
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s GGML_LIB_DIR libggml-cpu-VARIANT.so\n", argv[0]);
    return 2;
  }
  void* base = dlopen((std::string(argv[1]) + "/libggml-base.so").c_str(), RTLD_NOW | RTLD_GLOBAL);
  void* cpu = base ? dlopen((std::string(argv[1]) + "/" + argv[2]).c_str(), RTLD_NOW | RTLD_GLOBAL) : nullptr;
  if (cpu == nullptr) {
    std::fprintf(stderr, "dlopen: %s\n", dlerror());
    return 2;
  }
  reinterpret_cast<void (*)()>(dlsym(cpu, "ggml_cpu_init"))();
  const auto traits = reinterpret_cast<TraitsFn>(dlsym(cpu, "ggml_get_type_traits_cpu"));
  int failures = 0;

  const struct {
    DType type;
    const char* ggml_quantize;
  } kBlockTypes[] = {{DType::Q4_0, "quantize_q4_0"}, {DType::Q4_1, "quantize_q4_1"}, {DType::Q5_0, "quantize_q5_0"},
                     {DType::Q5_1, "quantize_q5_1"}, {DType::Q8_0, "quantize_q8_0"},
                     {DType::IQ4_NL, "quantize_iq4_nl"}};
  for (const int64_t cols : {4096, 64}) {
    const int64_t rows = 262144 / cols;
    const auto x = test_rows(rows, cols, static_cast<uint32_t>(cols));
    std::vector<float> imp(cols), act(cols);
    std::mt19937 rng(7);
    std::normal_distribution<float> g(0.0f, 1.0f);
    for (auto& v : imp) v = std::exp(2.0f * g(rng));
    for (auto& v : act) v = g(rng);
    for (const auto& t : kBlockTypes) {
      const auto ggml_quantize = reinterpret_cast<QuantizeFn>(dlsym(base, t.ggml_quantize));
      const FormatOps& ops = format_ops(t.type);
      const size_t row_bytes = dtype_bytes(t.type, cols);
      const size_t block_bytes = static_cast<size_t>(dtype_block_bytes(t.type));
      for (const float* importance : {static_cast<const float*>(nullptr), static_cast<const float*>(imp.data())}) {
        std::vector<uint8_t> ours(row_bytes * rows), theirs(row_bytes * rows);
        ggml_quantize(x.data(), theirs.data(), rows, cols, importance);
        for (int64_t r = 0; r < rows; ++r) ops.quantize_row(ours.data() + r * row_bytes, x.data() + r * cols, cols, importance);
        size_t differ = 0;
        const size_t blocks = ours.size() / block_bytes;
        for (size_t b = 0; b < blocks; ++b)
          differ += std::memcmp(&ours[b * block_bytes], &theirs[b * block_bytes], block_bytes) != 0;
        std::printf("%-7s cols %4lld encode %-10s %zu of %zu blocks differ\n", std::string(dtype_name(t.type)).c_str(),
                    static_cast<long long>(cols), importance ? "imatrix" : "plain", differ, blocks);
        failures += differ != 0;
        if (importance != nullptr) continue;
        // Activations and the dot, on row 0.
        const GgmlTraitsCpu* tc = traits(static_cast<int>(t.type));
        std::vector<uint8_t> a_ours(dtype_bytes(ops.dot_type, cols)), a_theirs(a_ours.size());
        traits(tc->vec_dot_type)->from_float(act.data(), a_theirs.data(), cols);
        format_ops(ops.dot_type).quantize_row(a_ours.data(), act.data(), cols, nullptr);
        float theirs_dot = 0;
        tc->vec_dot(static_cast<int>(cols), &theirs_dot, 0, theirs.data(), 0, a_theirs.data(), 0, 1);
        const float ours_dot = ops.dot(cols, ours.data(), a_ours.data());
        const double rel = std::fabs(double(ours_dot) - theirs_dot) / std::max(1e-30, std::fabs(double(theirs_dot)));
        std::printf("        activation %s bytes %s; dot %.7g vs ggml %.7g (relative %.1e)\n",
                    std::string(dtype_name(ops.dot_type)).c_str(), a_ours == a_theirs ? "identical" : "DIFFER",
                    ours_dot, theirs_dot, rel);
        failures += (a_ours != a_theirs) + (rel > 1e-5);
      }
    }
  }

  // F16 / BF16 conversion (round to nearest even), including subnormals and overflow.
  std::vector<float> f(1 << 16);
  std::mt19937 rng(3);
  std::uniform_int_distribution<uint32_t> bits;
  for (auto& v : f) {
    uint32_t u = bits(rng);
    if ((u & 0x7F800000u) == 0x7F800000u) u &= ~0x00400000u;  // no NaN payload games
    std::memcpy(&v, &u, 4);
  }
  const struct {
    DType type;
    const char* ggml_row;
  } kFloatTypes[] = {{DType::F16, "ggml_fp32_to_fp16_row"}, {DType::BF16, "ggml_fp32_to_bf16_row"}};
  for (const auto& t : kFloatTypes) {
    std::vector<uint8_t> ours(f.size() * 2), theirs(f.size() * 2);
    reinterpret_cast<RowFn>(dlsym(base, t.ggml_row))(f.data(), theirs.data(), static_cast<int64_t>(f.size()));
    format_ops(t.type).quantize_row(ours.data(), f.data(), static_cast<int64_t>(f.size()), nullptr);
    size_t differ = 0;
    for (size_t i = 0; i < f.size(); ++i) differ += std::memcmp(&ours[2 * i], &theirs[2 * i], 2) != 0;
    std::printf("%-7s convert %zu random bit patterns: %zu differ\n", std::string(dtype_name(t.type)).c_str(), f.size(),
                differ);
    failures += differ != 0;
  }
  std::printf("%d check(s) differ\n", failures);
  return failures;
}
