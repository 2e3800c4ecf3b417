// GPTQ cost on Llama-7B layer shapes, against the cost of the Hessian it
// needs (issue 4): for each layer shape rows × cols (out × in; 4096×4096 for
// q/k/v/o, 11008×4096 for gate/up), random weights and --tokens random
// correlated calibration tokens (default 64 windows × 512 = 32768), it times
//   - the baseline: hessian_add over all tokens, fed --batch tokens per call
//     (default 512, one calibration window), token generation not included;
//   - gptq_quantize, 4-bit asymmetric, group 128 (methods/gptq.h);
//   - gptq_quantize_format onto Q4_K (methods/gptq_format.h);
// and prints each time with its ratio to the Hessian time, the relative output
// error sqrt(tr(ΔHΔᵀ) / tr(WHWᵀ)) of GPTQ and of round-to-nearest on the same
// grid (a check that the timed runs did their job), and the peak RSS.
//
// Tokens: x = (z·A + 0.5·ε) ⊙ s, with 64 latent factors z, a fixed mixing A
// and per-column scales s (one column in 64 ten times larger, like the
// outlier channels of real activations), made --batch tokens at a time.
// Weights: uniform with the standard deviation 0.02 of a trained layer.
//
// Each shape runs in a child process (this binary with --one ...), so that
// its peak RSS is its own.
//
// Usage: gptq_bench [--tokens N] [--batch N] [--shapes 4096x4096,11008x4096]
//                   [--threads N]   (default 32768, 512, both shapes, 2)
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/resource_usage.h"
#include "core/stopwatch.h"
#include "kernels/matmul.h"
#include "methods/gptq.h"
#include "methods/gptq_format.h"
#include "stats/hessian.h"

extern char** environ;

namespace {

using namespace lmpack;

constexpr int64_t kLatent = 64;

// splitmix64: a fast, seedable stream of 64-bit values.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform on [-√3, √3): mean 0, variance 1.
  float unit() { return (static_cast<float>(next() >> 40) * 0x1p-24f * 2.0f - 1.0f) * 1.7320508f; }
  // Approximately standard normal (sum of four uniforms).
  float normal() { return 0.5f * (unit() + unit() + unit() + unit()); }
};

// Correlated calibration tokens, made a batch at a time.
class TokenSource {
 public:
  TokenSource(int64_t cols, uint64_t seed) : cols_(cols), a_(kLatent * cols), scale_(cols), rng_{seed} {
    Rng init{seed ^ 0x5eedull};
    for (float& v : a_) v = init.normal() / std::sqrt(static_cast<float>(kLatent));
    for (int64_t c = 0; c < cols; ++c) scale_[c] = c % 64 == 7 ? 10.0f : 0.5f + init.unit() * 0.25f;
  }

  // x [rows, cols].
  void fill(float* x, int64_t rows) {
    z_.resize(static_cast<size_t>(rows * kLatent));
    for (float& v : z_) v = rng_.normal();
    for (int64_t k = 0; k < rows * cols_; ++k) x[k] = 0.5f * rng_.unit();
    // x += z · A: [rows, kLatent] · [kLatent, cols].
    sgemm(false, false, rows, cols_, kLatent, 1.0f, z_.data(), kLatent, a_.data(), cols_, 1.0f, x, cols_);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols_; ++c) x[r * cols_ + c] *= scale_[c];
  }

 private:
  int64_t cols_;
  std::vector<float> a_, scale_, z_;
  Rng rng_;
};

double relative_error(const float* w, const float* w_hat, int64_t rows, int64_t cols, const Hessian& h,
                      double reference) {
  return std::sqrt(hessian_output_error(w, w_hat, rows, cols, h) / reference);
}

// Child: one shape; prints its table row.
int run_one(int64_t rows, int64_t cols, int64_t tokens, int64_t batch, int threads) {
  set_num_threads(threads);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  Rng rng{1234 + static_cast<uint64_t>(rows)};
  for (float& v : w) v = 0.02f * rng.unit();

  // Baseline: the Hessian over all tokens.
  Hessian h = make_hessian(cols);
  TokenSource source(cols, 99);
  std::vector<float> x(static_cast<size_t>(std::min(batch, tokens) * cols));
  double hessian_s = 0.0;
  for (int64_t t0 = 0; t0 < tokens; t0 += batch) {
    const int64_t m = std::min(batch, tokens - t0);
    source.fill(x.data(), m);
    Stopwatch sw;
    hessian_add(h, x.data(), m);
    hessian_s += sw.seconds();
  }
  std::vector<float>().swap(x);

  GptqOptions go;
  go.grid.bits = 4;
  go.group_size = 128;
  Stopwatch sw;
  const QuantizedMatrix gq = gptq_quantize(w.data(), rows, cols, h, go);
  const double gptq_s = sw.seconds();

  h.derived.reset();  // the factor of H⁻¹ gptq_quantize kept: timed afresh, as for a layer of its own
  sw.restart();
  const QuantizedMatrix fq = gptq_quantize_format(w.data(), rows, cols, h, DType::Q4_K, nullptr, {});
  const double q4k_s = sw.seconds();
  const int64_t peak = peak_rss_bytes();  // before the checks below allocate their RTN copies

  const double ref = hessian_output_error(w.data(), nullptr, rows, cols, h);
  const double e_gptq = relative_error(w.data(), gq.dequantized.data(), rows, cols, h, ref);
  const double e_q4k = relative_error(w.data(), fq.dequantized.data(), rows, cols, h, ref);
  double e_rtn = 0.0, e_rtn_q4k = 0.0;
  {
    const QuantizedMatrix rq = rtn_quantize(w.data(), rows, cols, go.grid, go.group_size);
    e_rtn = relative_error(w.data(), rq.dequantized.data(), rows, cols, h, ref);
  }
  {
    const QuantizedMatrix rq = rtn_quantize_format(w.data(), rows, cols, DType::Q4_K, nullptr);
    e_rtn_q4k = relative_error(w.data(), rq.dequantized.data(), rows, cols, h, ref);
  }
  std::printf("%5lldx%-5lld %7lld %9.2f %9.2f %7.2fx %9.2f %7.2fx %10.4f %10.4f %10.4f %10.4f %9.0f\n",
              static_cast<long long>(rows), static_cast<long long>(cols), static_cast<long long>(tokens), hessian_s,
              gptq_s, gptq_s / hessian_s, q4k_s, q4k_s / hessian_s, e_rtn, e_gptq, e_rtn_q4k, e_q4k,
              static_cast<double>(peak) / 1048576.0);
  std::fflush(stdout);
  return 0;
}

int64_t parse_int(const std::string& option, const char* value) {
  char* end = nullptr;
  const long long v = std::strtoll(value, &end, 10);
  if (end == value || *end != '\0' || v <= 0) throw Error(option, cat("expected a positive integer, got '", value, "'"));
  return v;
}

std::vector<std::pair<int64_t, int64_t>> parse_shapes(const std::string& list) {
  std::vector<std::pair<int64_t, int64_t>> shapes;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, comma - pos);
    const size_t x = item.find('x');
    if (x == std::string::npos) throw Error("--shapes", cat("expected ROWSxCOLS, got '", item, "'"));
    shapes.emplace_back(parse_int("--shapes", item.substr(0, x).c_str()),
                        parse_int("--shapes", item.substr(x + 1).c_str()));
    pos = comma + 1;
  }
  return shapes;
}

bool spawn_one(const std::string& self, int64_t rows, int64_t cols, int64_t tokens, int64_t batch, int threads) {
  std::vector<std::string> args = {self, "--one", std::to_string(rows), std::to_string(cols), std::to_string(tokens),
                                   std::to_string(batch), std::to_string(threads)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 7 && std::string(argv[1]) == "--one")
      return run_one(parse_int("rows", argv[2]), parse_int("cols", argv[3]), parse_int("--tokens", argv[4]),
                     parse_int("--batch", argv[5]), static_cast<int>(parse_int("--threads", argv[6])));
    int64_t tokens = 64 * 512, batch = 512;
    int threads = 2;
    std::string shapes_arg = "4096x4096,11008x4096";
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) throw Error(a, "unknown option or missing value (see the top of bench/gptq_bench.cpp)");
      if (a == "--tokens") tokens = parse_int(a, argv[++i]);
      else if (a == "--batch") batch = parse_int(a, argv[++i]);
      else if (a == "--threads") threads = static_cast<int>(parse_int(a, argv[++i]));
      else if (a == "--shapes") shapes_arg = argv[++i];
      else throw Error(a, "unknown option (--tokens, --batch, --shapes, --threads)");
    }
    const auto shapes = parse_shapes(shapes_arg);
    const std::string self = std::filesystem::canonical("/proc/self/exe").string();
    std::printf("GPTQ vs Hessian accumulation, random layer, %lld correlated tokens fed %lld per hessian_add, "
                "%d threads\n",
                static_cast<long long>(tokens), static_cast<long long>(batch), threads);
    std::printf("int4 = 4-bit asymmetric, group 128; Q4_K s = GPTQ onto the Q4_K block grid; "
                "last 4 columns before peak MB: relative error ||(W-Ŵ)X|| / ||WX|| on the calibration tokens\n");
    std::printf("%-11s %7s %9s %9s %8s %9s %8s %10s %10s %10s %10s %9s\n", "rows x cols", "tokens", "hessian s",
                "int4 s", "ratio", "Q4_K s", "ratio", "RTN int4", "GPTQ int4", "RTN Q4_K", "GPTQ Q4_K",
                "peak MB");
    std::fflush(stdout);
    bool ok = true;
    for (const auto& [rows, cols] : shapes) {
      if (!spawn_one(self, rows, cols, tokens, batch, threads)) {
        std::printf("%5lldx%-5lld failed\n", static_cast<long long>(rows), static_cast<long long>(cols));
        ok = false;
      }
      std::fflush(stdout);
    }
    std::printf("reproduce: ninja -C BUILD gptq_bench && OMP_WAIT_POLICY=PASSIVE BUILD/gptq_bench --tokens %lld "
                "--batch %lld --shapes %s --threads %d\n",
                static_cast<long long>(tokens), static_cast<long long>(batch), shapes_arg.c_str(), threads);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gptq_bench: %s\n", e.what());
    return 1;
  }
}
