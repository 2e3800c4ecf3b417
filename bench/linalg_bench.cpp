// GPTQ's inverse factor U (upper, H⁻¹ = Uᵀ·U) at Llama-7B input widths, before
// and after the blocked mixed-precision linear algebra (kernels/linalg.h):
//   - before: the reference code's three steps in plain double,
//     chol(H) → cholesky_inverse → chol, U = Lᵀ (the previous
//     gptq_inverse_factor);
//   - after: gptq_inverse_factor (methods/gptq_hessian.h): reversal,
//     cholesky_blocked, lower_triangular_inverse, reversal.
// H = 2·XᵀX/N over N correlated tokens (X = z·A + 0.5·ε with 64 latent
// factors and one column in 64 ten times larger, like real activations),
// dampened by 0.01·mean(diag) as GPTQ does. Prints both times, their ratio,
// and max|U_after - U_before| / max|U_before|. The plain path is O(n³) scalar
// code (minutes at 4096, an hour and more at 11008): sizes above --before-max
// are timed after only, and the before time is extrapolated from the largest
// measured size by n³ (marked "~").
//
// Usage: linalg_bench [--sizes 1024,4096,11008] [--before-max 2048]
//                     [--tokens N] [--threads N]   (defaults as shown, 2048, 2)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "kernels/linalg.h"
#include "kernels/matmul.h"
#include "methods/gptq_hessian.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// h [n, n] = 2·XᵀX/N in double for N correlated random tokens.
std::vector<double> make_hessian(int64_t n, int64_t tokens) {
  constexpr int64_t kFactors = 64;
  std::mt19937 gen(1234);
  std::normal_distribution<float> dist;
  std::vector<float> z(tokens * kFactors), mix(kFactors * n), x(tokens * n), h32(n * n);
  for (float& v : z) v = dist(gen);
  for (float& v : mix) v = dist(gen) / 8.0f;
  lmpack::sgemm(false, false, tokens, n, kFactors, 1.0f, z.data(), kFactors, mix.data(), n, 0.0f, x.data(), n);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c = 0; c < n; ++c) x[t * n + c] = (x[t * n + c] + 0.5f * dist(gen)) * (c % 64 == 0 ? 10.0f : 1.0f);
  lmpack::sgemm(true, false, n, n, tokens, 2.0f / static_cast<float>(tokens), x.data(), n, x.data(), n, 0.0f,
                h32.data(), n);
  return std::vector<double>(h32.begin(), h32.end());
}

// The previous gptq_inverse_factor: three plain double steps.
std::vector<float> before(std::vector<double> h, int64_t n, double damp) {
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i) mean += h[i * n + i];
  for (int64_t i = 0; i < n; ++i) h[i * n + i] += damp * mean / static_cast<double>(n);
  if (lmpack::cholesky(h.data(), n) >= 0) std::abort();
  lmpack::cholesky_inverse(h.data(), n);
  if (lmpack::cholesky(h.data(), n) >= 0) std::abort();
  std::vector<float> u(n * n, 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) u[i * n + j] = static_cast<float>(h[j * n + i]);
  return u;
}

std::vector<int64_t> parse_sizes(const char* s) {
  std::vector<int64_t> out;
  for (const char* p = s; *p;) {
    out.push_back(std::strtoll(p, const_cast<char**>(&p), 10));
    if (*p == ',') ++p;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes = {1024, 4096, 11008};
  int64_t before_max = 2048, tokens = 2048;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string opt = argv[i];
    if (opt == "--sizes") sizes = parse_sizes(argv[i + 1]);
    else if (opt == "--before-max") before_max = std::atoll(argv[i + 1]);
    else if (opt == "--tokens") tokens = std::atoll(argv[i + 1]);
    else if (opt == "--threads") threads = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  lmpack::set_num_threads(threads);
  constexpr double kDamp = 0.01;
  std::printf("%8s %12s %12s %9s %14s\n", "cols", "before_s", "after_s", "ratio", "max_rel_diff");
  double last_n = 0.0, last_before = 0.0;
  for (const int64_t n : sizes) {
    const std::vector<double> h = make_hessian(n, tokens);
    auto t0 = Clock::now();
    const std::vector<float> u_after = lmpack::gptq_inverse_factor(h, n, kDamp);
    const double after_s = seconds_since(t0);
    if (n <= before_max) {
      t0 = Clock::now();
      const std::vector<float> u_before = before(h, n, kDamp);
      const double before_s = seconds_since(t0);
      double diff = 0.0, scale = 0.0;
      for (size_t k = 0; k < u_before.size(); ++k) {
        diff = std::max(diff, static_cast<double>(std::fabs(u_after[k] - u_before[k])));
        scale = std::max(scale, static_cast<double>(std::fabs(u_before[k])));
      }
      std::printf("%8lld %12.3f %12.3f %8.1fx %14.2e\n", static_cast<long long>(n), before_s, after_s,
                  before_s / after_s, diff / scale);
      last_n = static_cast<double>(n);
      last_before = before_s;
    } else if (last_n > 0.0) {
      const double est = last_before * std::pow(static_cast<double>(n) / last_n, 3.0);
      std::printf("%8lld %11.0f~ %12.3f %7.0fx~ %14s\n", static_cast<long long>(n), est, after_s, est / after_s, "-");
    } else {
      std::printf("%8lld %12s %12.3f %9s %14s\n", static_cast<long long>(n), "-", after_s, "-", "-");
    }
    std::fflush(stdout);
  }
  return 0;
}
