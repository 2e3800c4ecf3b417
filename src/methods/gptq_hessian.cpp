// GPTQ's shared Hessian preparation (methods/gptq_hessian.h).
#include "methods/gptq_hessian.h"

#include <bit>
#include <cmath>
#include <utility>

#include "core/error.h"
#include "core/hash.h"
#include "core/large_buffer.h"
#include "core/parallel.h"
#include "kernels/linalg.h"

namespace lmpack {
namespace {

// An Error that names the matrix and suggests a fix; pivot in sweep order.
[[noreturn]] void throw_not_pd(int64_t pivot, int64_t n, double damp) {
  throw Error("gptq", cat("H + damp·mean(diag H)·I is not positive definite (Cholesky pivot at column ", pivot,
                          " of ", n, " is not > 0) with damp ", damp,
                          "; use a larger damp (e.g. 0.1) or more calibration samples"));
}

// a [n, n] <- J·a·J, J the reversal permutation: a 180° rotation in place.
template <typename T>
void reverse_both(T* a, int64_t n) {
  const int64_t total = n * n;
  for (int64_t k = 0; k < total / 2; ++k) std::swap(a[k], a[total - 1 - k]);
}

// What a sweep keeps with the Hessian (Hessian::derived).
struct KeptFactor final : HessianDerived {
  GptqFactorKey key;
  std::shared_ptr<const std::vector<float>> u;
};

// Fingerprint of one row of n doubles: four interleaved multiply-xor chains
// (each step a bijection of its chain's state, so changing any one entry
// changes the result), mixed by splitmix64.
uint64_t row_fingerprint(const double* row, int64_t n, uint64_t seed) {
  uint64_t a[4] = {seed, seed ^ 0x5555555555555555ull, seed ^ 0xaaaaaaaaaaaaaaaaull, ~seed};
  constexpr uint64_t kOdd = 0x9e3779b97f4a7c15ull;
  int64_t c = 0;
  for (; c + 4 <= n; c += 4)
    for (int k = 0; k < 4; ++k) a[k] = (a[k] ^ std::bit_cast<uint64_t>(row[c + k])) * kOdd;
  for (; c < n; ++c) a[0] = (a[0] ^ std::bit_cast<uint64_t>(row[c])) * kOdd;
  return splitmix64(splitmix64(splitmix64(splitmix64(a[0]) ^ a[1]) ^ a[2]) ^ a[3]);
}

}  // namespace

GptqFactorKey gptq_factor_key(const Hessian& hessian, double damp, bool act_order) {
  const int64_t n = hessian.cols;
  std::vector<uint64_t> rows(static_cast<size_t>(n));
  parallel_for(n, [&](int64_t r) { rows[r] = row_fingerprint(hessian.h.data() + r * n, n, splitmix64(r)); });
  uint64_t f = splitmix64(splitmix64(static_cast<uint64_t>(n)) ^ static_cast<uint64_t>(hessian.samples));
  for (uint64_t v : rows) f = splitmix64(f ^ v);
  return {damp, act_order, f};
}

std::shared_ptr<const std::vector<float>> gptq_kept_factor(const Hessian& hessian, const GptqFactorKey& key) {
  const auto* kept = dynamic_cast<const KeptFactor*>(hessian.derived.get());
  if (kept == nullptr || kept->key.fingerprint != key.fingerprint || kept->key.act_order != key.act_order ||
      std::bit_cast<uint64_t>(kept->key.damp) != std::bit_cast<uint64_t>(key.damp))
    return nullptr;
  return kept->u;
}

std::shared_ptr<const std::vector<float>> gptq_keep_factor(const Hessian& hessian, const GptqFactorKey& key,
                                                           std::vector<float> u) {
  auto kept = std::make_shared<KeptFactor>();
  kept->key = key;
  kept->u = std::make_shared<const std::vector<float>>(std::move(u));
  hessian.derived = kept;
  return kept->u;
}

void check_gptq_inputs(int64_t rows, int64_t cols, const Hessian& hessian, int64_t block_size, double damp,
                       const char* where) {
  if (rows <= 0 || cols <= 0) throw Error(where, cat("weight shape must be positive, got [", rows, ", ", cols, "]"));
  if (hessian.cols != cols || static_cast<int64_t>(hessian.h.size()) != cols * cols)
    throw Error(where, cat("Hessian is for ", hessian.cols, " columns (", hessian.h.size(),
                           " entries) but the weight has ", cols, " columns"));
  if (block_size <= 0) throw Error(where, cat("block_size must be > 0, got ", block_size));
  if (!(damp >= 0.0) || !std::isfinite(damp)) throw Error(where, cat("damp must be a finite value >= 0, got ", damp));
}

std::vector<double> gptq_clear_dead_columns(float* w, int64_t rows, int64_t cols, const Hessian& hessian) {
  std::vector<double> diag(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) {
    diag[c] = hessian.h[c * cols + c];
    if (diag[c] != 0.0) continue;
    diag[c] = 1.0;
    for (int64_t r = 0; r < rows; ++r) w[r * cols + c] = 0.0f;
  }
  return diag;
}

std::vector<float> gptq_inverse_factor(std::vector<double> h, int64_t cols, double damp) {
  double mean_diag = 0.0;
  for (int64_t i = 0; i < cols; ++i) mean_diag += h[i * cols + i];
  mean_diag /= static_cast<double>(cols);
  for (int64_t i = 0; i < cols; ++i) h[i * cols + i] += damp * mean_diag;
  // H⁻¹ = Uᵀ·U with U upper: factor J·H·J = L'·L'ᵀ, so H = R·Rᵀ with
  // R = J·L'·J upper, H⁻¹ = R⁻ᵀ·R⁻¹ and U = R⁻¹ = J·L'⁻¹·J (the Cholesky
  // factor of H⁻¹ is unique, so this is the reference code's U).
  reverse_both(h.data(), cols);
  std::vector<float> work = large_vector<float>(static_cast<size_t>(linalg_work_size(cols)));
  const int64_t pivot = cholesky_blocked(h.data(), work.data(), cols);
  if (pivot >= 0) throw_not_pd(cols - 1 - pivot, cols, damp);
  lower_triangular_inverse(h.data(), work.data(), cols);  // work[:cols²] = L'⁻¹ in float
  h = {};
  work.resize(static_cast<size_t>(cols * cols));
  reverse_both(work.data(), cols);  // U = J·L'⁻¹·J: upper, strict lower zero
  return work;
}

}  // namespace lmpack
