// Row kernels of the float and 32-element block formats, every variant side
// by side: each dot product at scalar / avx2 / avx512 (variants the CPU
// cannot run are skipped), each encoder with and without importance, and
// the Q8_0 / Q8_1 activation quantizers per ISA. Rows of 4096 elements, the
// width of a Llama-7B hidden state; throughput is reported in elements/s.
//
// Usage: formats_bench [--benchmark_filter=REGEX] [--benchmark_min_time=0.05]
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "formats/dots_x86.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "formats/q8_0.h"
#include "formats/q8_1.h"

namespace {

using namespace lmpack;

constexpr int64_t kN = 4096;

const std::vector<float>& row(uint32_t seed) {
  static std::vector<std::vector<float>> rows(4);
  std::vector<float>& r = rows[seed % 4];
  if (r.empty()) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    r.resize(kN);
    for (float& v : r) v = g(rng);
  }
  return r;
}

void bench_dot(benchmark::State& state, DType type, Isa isa) {
  const FormatOps& ops = format_ops(type);
  const DotFn dot = ops.dot_by_isa[static_cast<int>(isa)];
  if (dot == nullptr || static_cast<int>(isa) > static_cast<int>(detected_isa())) {
    state.SkipWithError("variant not available on this CPU");
    return;
  }
  std::vector<uint8_t> w(dtype_bytes(type, kN)), a(dtype_bytes(ops.dot_type, kN));
  ops.quantize_row(w.data(), row(1).data(), kN, nullptr);
  format_ops(ops.dot_type).quantize_row(a.data(), row(2).data(), kN, nullptr);
  for (auto _ : state) benchmark::DoNotOptimize(dot(kN, w.data(), a.data()));
  state.SetItemsProcessed(state.iterations() * kN);
}

void bench_quantize(benchmark::State& state, DType type, bool importance) {
  const FormatOps& ops = format_ops(type);
  std::vector<uint8_t> out(dtype_bytes(type, kN));
  std::vector<float> imp(kN);
  for (int64_t i = 0; i < kN; ++i) imp[i] = 0.5f + static_cast<float>(i % 5);
  for (auto _ : state) {
    ops.quantize_row(out.data(), row(3).data(), kN, importance ? imp.data() : nullptr);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kN);
}

using QuantizeFn = void (*)(void*, const float*, int64_t);

void bench_activation(benchmark::State& state, QuantizeFn fn, Isa isa, DType type) {
  if (static_cast<int>(isa) > static_cast<int>(detected_isa())) {
    state.SkipWithError("variant not available on this CPU");
    return;
  }
  std::vector<uint8_t> out(dtype_bytes(type, kN));
  for (auto _ : state) {
    fn(out.data(), row(0).data(), kN);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kN);
}

const bool kRegistered = [] {
  const DType dot_types[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,  DType::Q4_1,
                             DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::IQ4_NL};
  for (DType t : dot_types) {
    const std::string fmt(dtype_name(t));
    const std::string act(dtype_name(format_ops(t).dot_type));
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
      benchmark::RegisterBenchmark(("dot/" + fmt + "_" + act + "/" + std::string(isa_name(isa))).c_str(), bench_dot,
                                   t, isa);
  }
  for (DType t : dot_types)
    for (bool imp : {false, true}) {
      if (imp && (t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::Q8_0)) continue;
      benchmark::RegisterBenchmark(
          ("quantize/" + std::string(dtype_name(t)) + (imp ? "/importance" : "/plain")).c_str(), bench_quantize, t,
          imp);
    }
  const struct {
    const char* name;
    QuantizeFn fn;
    Isa isa;
    DType type;
  } acts[] = {{"q8_0/scalar", quantize_row_q8_0_scalar, Isa::kScalar, DType::Q8_0},
              {"q8_0/avx2", quantize_row_q8_0_avx2, Isa::kAvx2, DType::Q8_0},
              {"q8_0/avx512", quantize_row_q8_0_avx512, Isa::kAvx512, DType::Q8_0},
              {"q8_1/scalar", quantize_row_q8_1_scalar, Isa::kScalar, DType::Q8_1},
              {"q8_1/avx2", quantize_row_q8_1_avx2, Isa::kAvx2, DType::Q8_1},
              {"q8_1/avx512", quantize_row_q8_1_avx512, Isa::kAvx512, DType::Q8_1}};
  for (const auto& a : acts)
    benchmark::RegisterBenchmark((std::string("activation/") + a.name).c_str(), bench_activation, a.fn, a.isa,
                                 a.type);
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
