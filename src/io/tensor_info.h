// A tensor as a reader found it: name, element type, shape and where its bytes
// are (inside a memory mapping, or inside a buffer the owner keeps alive).
//
// Shapes are row-major, outermost dimension first (PyTorch/safetensors order):
// a linear layer's weight is {out_features, in_features}. GGUF stores ne[] in
// the opposite order; its reader reverses it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace lmpack {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t n_elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }  // innermost
  int64_t rows() const { return shape.empty() ? 1 : n_elements() / shape.back(); }
};

std::string shape_string(const std::vector<int64_t>& shape);  // "[64, 172]"

}  // namespace lmpack
