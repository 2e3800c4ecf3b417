// Round to nearest as a method (methods/method.h): every row rounded onto the
// layer's grid on its own (the format's encoder, or integer groups' min-max /
// MSE search), importance-weighted when an importance is given. Needs no
// calibration.
#pragma once

#include <memory>

#include "methods/method.h"

namespace lmpack {

std::unique_ptr<Method> make_rtn_method();

}  // namespace lmpack
