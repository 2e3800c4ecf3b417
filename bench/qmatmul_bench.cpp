// qmatmul_xwt's two paths side by side on Llama-7B layer shapes, to place
// the crossover kGemmMinRows (formats/qmatmul.cpp): per type, weight shape
// (4096x4096 attention, 11008x4096 FFN) and activation rows m, the dot path
// (activations quantized to the dot type, one dot per pair) against decoded
// tiles + sgemm, with F32 sgemm (matmul_xwt) as the baseline.
//
// Reproduce:
//   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLMPACK_BUILD_BENCH=ON
//   ninja -C build qmatmul_bench && build/qmatmul_bench --benchmark_counters_tabular=true
// (LMPACK_ISA=avx2 or scalar caps the dot kernels.)
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "core/parallel.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "formats/qmatmul.h"
#include "kernels/matmul.h"

namespace lmpack {
namespace {

constexpr int64_t kDim = 4096;

std::vector<float> random_vector(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.02f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

// Quantized weights [n, kDim] per (type, n), made once (quantizing is slow).
const std::vector<uint8_t>& weights(DType type, int64_t n) {
  static std::map<std::pair<DType, int64_t>, std::vector<uint8_t>> cache;
  auto it = cache.find({type, n});
  if (it != cache.end()) return it->second;
  const std::vector<float> w = random_vector(n * kDim, 1);
  std::vector<uint8_t>& out = cache[{type, n}];
  if (type == DType::F32) {
    out.resize(w.size() * sizeof(float));
    std::memcpy(out.data(), w.data(), out.size());
    return out;
  }
  const FormatOps& ops = format_ops(type);
  const size_t row = dtype_bytes(type, kDim);
  out.resize(row * n);
  parallel_for(n, [&](int64_t r) { ops.quantize_row(out.data() + r * row, w.data() + r * kDim, kDim, nullptr); });
  return out;
}

// args: n (weight rows), m (activation rows), path (0 dot, 1 decode+sgemm)
void run(benchmark::State& state, DType type) {
  const int64_t n = state.range(0), m = state.range(1);
  const auto path = state.range(2) == 0 ? QmatmulPath::kDot : QmatmulPath::kDequantGemm;
  const WeightMatrix w{type, weights(type, n).data(), n, kDim};
  const std::vector<float> x = random_vector(m * kDim, 2);
  std::vector<float> y(static_cast<size_t>(m * n));
  QuantizedActivations xa;
  for (auto _ : state) {
    xa.set(x.data(), m, kDim);  // quantizing the activations is part of the cost
    qmatmul_xwt(y.data(), xa, w, false, path);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(m * n * kDim), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.SetLabel(path == QmatmulPath::kDot ? "dot" : "decode+sgemm");
}

void args(benchmark::internal::Benchmark* b) {
  for (int64_t n : {int64_t{4096}, int64_t{11008}})
    for (int64_t m : {1, 8, 16, 32, 64, 96, 128, 256})
      for (int64_t path : {0, 1}) b->Args({n, m, path});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void BM_F32Sgemm(benchmark::State& state) {
  const int64_t n = state.range(0), m = state.range(1);
  const auto* w = reinterpret_cast<const float*>(weights(DType::F32, n).data());
  const std::vector<float> x = random_vector(m * kDim, 2);
  std::vector<float> y(static_cast<size_t>(m * n));
  for (auto _ : state) {
    matmul_xwt(y.data(), x.data(), w, m, n, kDim);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(m * n * kDim), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}

void BM_Q8_0(benchmark::State& s) { run(s, DType::Q8_0); }
void BM_Q4_0(benchmark::State& s) { run(s, DType::Q4_0); }
void BM_Q4_K(benchmark::State& s) { run(s, DType::Q4_K); }
void BM_Q6_K(benchmark::State& s) { run(s, DType::Q6_K); }
void BM_F16(benchmark::State& s) { run(s, DType::F16); }

BENCHMARK(BM_F32Sgemm)
    ->ArgsProduct({{4096, 11008}, {1, 8, 16, 32, 64, 96, 128, 256}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Q8_0)->Apply(args);
BENCHMARK(BM_Q4_0)->Apply(args);
BENCHMARK(BM_Q4_K)->Apply(args);
BENCHMARK(BM_Q6_K)->Apply(args);
BENCHMARK(BM_F16)->Apply(args);

}  // namespace
}  // namespace lmpack

BENCHMARK_MAIN();
