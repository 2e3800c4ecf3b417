// Pruning by a mask, then rounding (methods/method.h): the mask by weight
// magnitude (magnitude_prune.h) or by Wanda's |W|·‖X_j‖ (wanda.h, from the
// layer's Hessian diagonal), applied, then every row rounded to nearest onto
// the layer's grid (zeros stay zeros on grids that hold 0: symmetric formats
// and integer groups; the report counts the pruned positions that did not).
#pragma once

#include <memory>

#include "methods/method.h"
#include "methods/sparsity.h"

namespace lmpack {

enum class PruneMask { kMagnitude, kWanda };

// Throws Error for a bad pattern.
std::unique_ptr<Method> make_mask_method(PruneMask mask, const SparsityPattern& pattern);

}  // namespace lmpack
