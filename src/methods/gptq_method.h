// GPTQ (methods/gptq.h) as a method (methods/method.h): each layer swept onto
// its grid with its Hessian; input weights that are exactly 0 stay 0 where
// the grid holds 0 (a pruned model keeps its zeros). A grid no sweep can
// round onto (a float format, IQ4_NL, a row of partial blocks) is rounded to
// nearest instead, and the report says so ("q8_0 (rtn: no row grid)").
#pragma once

#include <cstdint>
#include <memory>

#include "methods/method.h"

namespace lmpack {

struct GptqMethodOptions {
  double damp = 0.01;        // fraction of mean(diag H) added to the diagonal
  int64_t block_size = 128;  // lazy-batch width
  bool act_order = false;    // integer grids only (static groups)
};

std::unique_ptr<Method> make_gptq_method(const GptqMethodOptions& options);

}  // namespace lmpack
