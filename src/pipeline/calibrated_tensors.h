// The hand-over between the sequential calibration pipeline and the writers.
//
// A writer (GGUF: pipeline/gguf_quantize.h; GPTQ/AWQ safetensors:
// pipeline/export_int_hf.h) streams its tensors in file order. For every
// tensor a CalibratedTensors object handles (the blk.N.* tensors), the writer
// asks it instead of reading the checkpoint; the object runs the model's
// blocks in order as their tensors are first asked for (block N is
// calibrated and compressed when the writer first needs one of its tensors),
// so blocks must be asked for in increasing N. Each tensor is taken once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grids/quantized_matrix.h"

namespace lmpack {

class CalibratedTensors {
 public:
  virtual ~CalibratedTensors() = default;
  // True for the tensors this object supplies (canonical names).
  virtual bool handles(const std::string& name) const = 0;
  // A tensor kept in float (norm weights, biases; AWQ may have rescaled them):
  // the f32 values in the checkpoint's canonical layout.
  virtual std::vector<float> take_f32(const std::string& name) = 0;
  // A linear weight on its grid (grids/quantized_matrix.h): encoded rows of a
  // GGUF block or float type, or integer groups (GPTQ/AWQ exports); rows in
  // the canonical (adjacent-pair RoPE) order. `dequantized` may be empty.
  virtual QuantizedMatrix take_matrix(const std::string& name) = 0;
};

}  // namespace lmpack
