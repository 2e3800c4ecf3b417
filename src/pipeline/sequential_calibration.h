// The sequential layer-by-layer calibration engine (GPTQ's "true
// sequential" order): one method (methods/method.h) over every block linear,
// each onto its grid (grids/grid.h). It names no method.
//
// The calibration windows go through the model one block at a time. Only the
// block being compressed is decoded to fp32; the input checkpoint stays
// memory-mapped. Per block:
//  1. the method may transform the block first (AWQ's scales and their
//     folding): it walks the block's stages (runtime/block_forward.h
//     walk_block_stages) on the uncompressed weights and the block's input;
//  2. the stages again, in order q/k/v → o → gate/up → down: each stage's
//     input is computed from the block with every earlier stage already
//     compressed, its Hessian H = 2XᵀX/N accumulated, and each of its layers
//     compressed by the method and replaced by its dequantized values for the
//     stages after it;
//  3. the compressed block's output is the next block's input.
// Without calibration windows (methods that need none) each linear is
// compressed on its own, in the same order.
// Memory: the residual stream and one stage's activations for all windows
// (T·(dim + max(q_dim, hidden)) floats), one block in fp32, its Hessians.
//
// This object is the CalibratedTensors the writers pull from: a block is
// processed when one of its tensors is first asked for.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grids/grid.h"
#include "io/imatrix.h"
#include "methods/method.h"
#include "model/checkpoint.h"
#include "model/tensor_names.h"
#include "pipeline/calibrated_tensors.h"
#include "pipeline/calibration_recipe.h"

namespace lmpack {

// Per linear layer, measured on the calibration inputs it saw (the outputs
// of the already compressed layers before it):
//   relative_error = ||W·X - Ŵ·X||_F / ||W·X||_F
// (W after AWQ scaling and clipping, on the scaled inputs, which is the same
// product as the unscaled one).
struct LayerError {
  std::string name;
  int64_t rows = 0, cols = 0;
  std::string grid;             // "q4_K", "int4 g128 asym", ...
  double relative_error = 0.0;  // NaN when no calibration data
  double awq_alpha = -1.0;      // chosen α (-1: no AWQ for this layer)
  int64_t zeros = 0;            // exact zeros in Ŵ
  double sparsity() const {
    return rows > 0 && cols > 0 ? static_cast<double>(zeros) / static_cast<double>(rows * cols) : 0.0;
  }
  int64_t pruned_nonzero = 0;   // pruned positions the target grid could not keep at 0
  double seconds = 0.0;
  int64_t tokens = 0;           // calibration tokens its Hessian was built from (0: none)
  // An expert of a mixture of experts: the tokens the router sent it (when
  // fewer than kMinExpertTokens, `tokens` is every token of the block:
  // runtime/block_forward.h); -1 for any other linear.
  int64_t routed_tokens = -1;
};

// What the engine runs: one method (methods/method.h), the target grid of
// every block linear, and optional importance weights by tensor name.
struct CalibrationPlan {
  std::shared_ptr<Method> method;
  std::map<std::string, std::shared_ptr<const Grid>> grids;  // every blk.N linear weight
  std::shared_ptr<const ImportanceMatrix> importance;        // null: none
  int64_t min_expert_tokens = kMinExpertTokens;              // CalibrationRecipe::min_expert_tokens
  bool show_progress = true;
};

class SequentialCalibration final : public CalibratedTensors {
 public:
  // windows: calibration token windows (eval/calibration.h), all of one
  // length; may be empty only when the method needs no calibration. Throws
  // Error for a method that needs calibration without windows, for a linear
  // without a grid, and for importance of the wrong width.
  SequentialCalibration(const Checkpoint& ckpt, std::vector<std::vector<int32_t>> windows, CalibrationPlan plan);
  // The plan of a recipe (make_calibration_plan).
  SequentialCalibration(const Checkpoint& ckpt, std::vector<std::vector<int32_t>> windows,
                        const CalibrationRecipe& recipe);
  ~SequentialCalibration() override;

  bool handles(const std::string& name) const override;
  std::vector<float> take_f32(const std::string& name) override;
  QuantizedMatrix take_matrix(const std::string& name) override;

  // Runs every block not yet run (tests and reports).
  void run_all();
  const std::vector<LayerError>& layer_errors() const { return errors_; }
  int64_t calibration_tokens() const;

 private:
  struct State;
  void run_through(int64_t layer);
  void run_block(int64_t layer);
  std::unique_ptr<State> state_;
  std::vector<LayerError> errors_;
};


}  // namespace lmpack
