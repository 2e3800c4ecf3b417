// Internal to methods/: the Hessian preparation that GPTQ's two sweeps share
// (gptq.cpp onto integer groups, gptq_format.cpp onto GGUF block grids), in
// the reference code's order: dead columns, (optional permutation, done by
// the caller), dampening by a fraction of the mean diagonal, then U, the
// upper Cholesky factor of H⁻¹, in float. The reference code gets U as
// chol(chol_inverse(chol(H)))ᵀ (three O(n³) steps, in fp32 on GPU); here it
// is one factorisation and one triangular inverse: J·H·J = L'·L'ᵀ (J the
// reversal permutation) gives U = J·L'⁻¹·J. Both run blocked
// (kernels/linalg.h): diagonal blocks and panel solves in double, the O(n³)
// block products in float through sgemm, so U carries float rounding
// (relative ~cols·2⁻²⁴·cond(H)^½), like the reference code's fp32.
// See methods/gptq.h for the paper and the deviations.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "stats/hessian.h"

namespace lmpack {

// Throws Error(where, ...) unless rows, cols > 0, hessian is [cols, cols],
// block_size > 0 and damp is finite and >= 0.
void check_gptq_inputs(int64_t rows, int64_t cols, const Hessian& hessian, int64_t block_size, double damp,
                       const char* where);

// Dead columns (H_ii = 0: no input ever reached them, so their weights cannot
// matter): zeroes column i of w [rows, cols] and returns diag(H) [cols] with
// those entries set to 1.
std::vector<double> gptq_clear_dead_columns(float* w, int64_t rows, int64_t cols, const Hessian& hessian);

// h [cols, cols]: H in sweep order with the dead diagonal already fixed
// (consumed). Adds damp · mean(diag h) to the diagonal and returns
// U [cols, cols] row-major (upper triangle set, the rest 0) with H⁻¹ = Uᵀ·U.
// Throws Error("gptq", ...) suggesting a larger damp when a Cholesky fails.
std::vector<float> gptq_inverse_factor(std::vector<double> h, int64_t cols, double damp);

// U depends on H's contents, the damp and the column order alone, so a sweep
// keeps it with the Hessian (Hessian::derived) for the next layer with the
// same inputs. The key names H by a 64-bit fingerprint of its cols, samples
// and every entry's bits (a change to any one entry changes it), so a Hessian
// edited in place after a sweep is not mistaken for the one U came from.
struct GptqFactorKey {
  double damp = 0.0;
  bool act_order = false;
  uint64_t fingerprint = 0;
};
GptqFactorKey gptq_factor_key(const Hessian& hessian, double damp, bool act_order);
// The U kept with hessian under this key, or null.
std::shared_ptr<const std::vector<float>> gptq_kept_factor(const Hessian& hessian, const GptqFactorKey& key);
// Keeps u with hessian under key (replacing what was kept) and returns it.
std::shared_ptr<const std::vector<float>> gptq_keep_factor(const Hessian& hessian, const GptqFactorKey& key,
                                                           std::vector<float> u);

}  // namespace lmpack
