// The layer-input Hessian of GPTQ's objective ||W·X - Ŵ·X||² (Frantar et al.,
// 2022): H = 2/N · Σ_n x_n·x_nᵀ over the N input rows (tokens) seen so far,
// kept in double as a running average so that batches can be added one at a
// time (AutoGPTQ's add_batch convention: H is always the average so far, no
// finalize step is needed).
#pragma once

#include <cstdint>
#include <vector>

namespace lmpack {

struct Hessian {
  int64_t cols = 0;       // input features (the layer's in dimension)
  int64_t samples = 0;    // input rows accumulated so far (N)
  std::vector<double> h;  // [cols, cols] row-major, full symmetric
};

// A zero Hessian for inputs of width cols (> 0).
Hessian make_hessian(int64_t cols);

// Adds rows inputs x [rows, cols] (row-major, one token per row):
//   H ← H·N/(N+rows) + 2/(N+rows) · XᵀX,  N ← N + rows.
// Throws Error on a negative row count or an empty Hessian.
void hessian_add(Hessian& hessian, const float* x, int64_t rows);

}  // namespace lmpack
