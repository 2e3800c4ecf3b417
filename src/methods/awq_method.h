// AWQ (methods/awq.h) as a method (methods/method.h), around another method
// that then rounds each layer (RTN: "awq", GPTQ: "awq+gptq"):
//  - scale search (transform_block): for each stage of a block whose input
//    has a producer to fold into (q/k/v after attn_norm, o after v when
//    q_dim == kv_dim, gate/up after ffn_norm, down after up), the input's
//    Hessian and mean |x| pick the scales s of the stage's input channels
//    (awq_search_scales, on the layers' own grids); after the walk each s is
//    folded in stage order: the producer divided by s (norm weight, or the
//    producing layer's rows and bias), the consumers' columns multiplied by
//    it. The layers' importance weights are divided by s² with them.
//  - clipping search (compress, integer grids, not q/k): awq_clip on the
//    layer's grid before the inner method rounds it.
#pragma once

#include <memory>

#include "methods/method.h"

namespace lmpack {

struct AwqMethodOptions {
  bool search_scales = true;  // the scale search and folding
  bool clip = false;          // the clipping search (integer grids)
  int n_grid = 20;            // α grid points
};

// Throws Error("awq", ...) for n_grid < 1.
std::unique_ptr<Method> make_awq_method(std::unique_ptr<Method> inner, const AwqMethodOptions& options);

}  // namespace lmpack
