// SparseGPT (methods/sparsegpt.h) as a method (methods/method.h): each layer
// pruned to the pattern with its Hessian and, when a sweep can round onto its
// grid, quantized in the same sweep ("q4_K sparsegpt (joint)"); otherwise
// pruned in float and rounded to nearest after (zeros stay zeros on grids
// that hold 0).
#pragma once

#include <cstdint>
#include <memory>

#include "methods/method.h"
#include "methods/sparsity.h"

namespace lmpack {

struct SparseGptMethodOptions {
  SparsityPattern pattern;
  double damp = 0.01;
  int64_t block_size = 128;
};

// Throws Error for a bad pattern.
std::unique_ptr<Method> make_sparsegpt_method(const SparseGptMethodOptions& options);

}  // namespace lmpack
