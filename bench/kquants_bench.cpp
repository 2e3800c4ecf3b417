// k-quant kernels side by side: the dot product of each k-quant with Q8_K
// activations per instruction set (scalar is the baseline, registered
// beside the SIMD variants in the same run), and the encoders' throughput
// (quantize_row with and without importance) plus the Q8_K activation
// quantizer.
//
// Usage: kquants_bench [--benchmark_filter=Dot/q4_K]   (single thread)
// Dot: 256 rows of 4096 weights against one activation row (a matrix-vector
// product of a 4096 x 256 slice, weights ~0.3-1.7 MB: in L2/L3); items/s
// counts weights. Quantize: one 64K-value row; bytes/s counts fp32 input.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "formats/q8_k.h"

namespace {

using namespace lmpack;

constexpr DType kTypes[] = {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

std::vector<float> gaussian(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = nd(rng);
  return v;
}

void bench_dot(benchmark::State& state, DType type, Isa isa) {
  constexpr int64_t kCols = 4096, kRows = 256;
  const FormatOps& ops = format_ops(type);
  const DotFn dot = ops.dot_by_isa[static_cast<int>(isa)];
  const size_t row_bytes = dtype_bytes(type, kCols);
  std::vector<uint8_t> w(row_bytes * kRows);
  const std::vector<float> wf = gaussian(kCols * kRows, 1);
  for (int64_t r = 0; r < kRows; ++r) ops.quantize_row(w.data() + r * row_bytes, wf.data() + r * kCols, kCols, nullptr);
  std::vector<BlockQ8_K> a(kCols / kQK_K);
  const std::vector<float> x = gaussian(kCols, 2);
  quantize_row_q8_k(a.data(), x.data(), kCols, nullptr);
  std::vector<float> y(kRows);
  for (auto _ : state) {
    for (int64_t r = 0; r < kRows; ++r) y[r] = dot(kCols, w.data() + r * row_bytes, a.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kCols * kRows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.size()));
}

void bench_quantize(benchmark::State& state, DType type, bool importance) {
  constexpr int64_t kN = 64 * 1024;
  const FormatOps& ops = format_ops(type);
  const std::vector<float> x = gaussian(kN, 3);
  std::vector<float> imp = gaussian(kN, 4);
  for (float& v : imp) v = v * v + 0.01f;
  std::vector<uint8_t> out(dtype_bytes(type, kN));
  for (auto _ : state) {
    ops.quantize_row(out.data(), x.data(), kN, importance ? imp.data() : nullptr);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kN * static_cast<int64_t>(sizeof(float)));
}

int register_all() {
  for (DType t : kTypes) {
    const std::string name(dtype_name(t));
    for (int isa = 0; isa <= static_cast<int>(detected_isa()); ++isa) {
      if (format_ops(t).dot_by_isa[isa] == nullptr) continue;
      benchmark::RegisterBenchmark(("Dot/" + name + "/" + std::string(isa_name(static_cast<Isa>(isa)))).c_str(),
                                   bench_dot, t, static_cast<Isa>(isa));
    }
  }
  for (DType t : kTypes) {
    const std::string name(dtype_name(t));
    benchmark::RegisterBenchmark(("Quantize/" + name).c_str(), bench_quantize, t, false);
    benchmark::RegisterBenchmark(("Quantize/" + name + "/importance").c_str(), bench_quantize, t, true);
  }
  benchmark::RegisterBenchmark("Quantize/q8_K", bench_quantize, DType::Q8_K, false);
  return 0;
}

const int kRegistered = register_all();

}  // namespace

BENCHMARK_MAIN();
