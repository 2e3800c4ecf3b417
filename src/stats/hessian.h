// The layer-input Hessian of GPTQ's objective ||W·X - Ŵ·X||² (Frantar et al.,
// 2022): H = 2/N · Σ_n x_n·x_nᵀ over the N input rows (tokens) seen so far,
// kept in double as a running average so that batches can be added one at a
// time (AutoGPTQ's add_batch convention: H is always the average so far, no
// finalize step is needed). The sums Σ x·xᵀ over each chunk of at most 2048
// rows are float (sgemm on tiles of the upper triangle); the chunks are
// accumulated into H in double, so the relative error of an entry is that of
// a float sum of at most 2048 products, not of all N.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace lmpack {

// Something a method derived from a Hessian at O(cols³) cost (GPTQ's factor of
// H⁻¹, methods/gptq_hessian.h), kept with the Hessian so that the layers that
// read the same inputs (q, k and v; gate and up) derive it once. The method
// that stores it checks that it still belongs to h's contents before reusing
// it.
struct HessianDerived {
  virtual ~HessianDerived() = default;
};

struct Hessian {
  int64_t cols = 0;       // input features (the layer's in dimension)
  int64_t samples = 0;    // input rows accumulated so far (N)
  std::vector<double> h;  // [cols, cols] row-major, full symmetric
  // See HessianDerived; hessian_add drops it. Not for two threads at once.
  mutable std::shared_ptr<const HessianDerived> derived;
};

// A zero Hessian for inputs of width cols (> 0).
Hessian make_hessian(int64_t cols);

// Adds rows inputs x [rows, cols] (row-major, one token per row):
//   H ← H·N/(N+rows) + 2/(N+rows) · XᵀX,  N ← N + rows.
// Threads over the team (sgemm). Throws Error on a negative row count or an
// empty Hessian.
void hessian_add(Hessian& hessian, const float* x, int64_t rows);

// tr(Δ·H·Δᵀ) for Δ = w - w_hat, w and w_hat [rows, cols] (w_hat null: Δ = w):
// with H the mean 2·XᵀX/N of inputs X [N, cols], this is 2/N·||Δ·Xᵀ||²_F, so
// sqrt(hessian_output_error(w, ŵ) / hessian_output_error(w, null)) is the
// relative output error ||W·X - Ŵ·X|| / ||W·X|| on those inputs. Computed
// through sgemm tiles (float products, double sums); threads over the team.
// Throws Error when hessian.cols != cols.
double hessian_output_error(const float* w, const float* w_hat, int64_t rows, int64_t cols, const Hessian& hessian);

}  // namespace lmpack
