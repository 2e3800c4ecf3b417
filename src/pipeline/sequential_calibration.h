// The sequential layer-by-layer calibration pipeline (GPTQ's "true
// sequential" order) behind `lmpack quantize --method rtn|gptq|awq|awq+gptq`.
//
// The calibration windows go through the model one block at a time. Only the
// block being compressed is decoded to fp32; the input checkpoint stays
// memory-mapped. Per block:
//  1. (AWQ) the fp32 block runs on its input; for each group of linear layers
//     sharing an input, the input's Hessian and mean |x| drive the scale
//     search (methods/awq.h); the scales are folded into the preceding norm
//     (q/k/v: attn_norm, gate/up: ffn_norm) or linear layer (v→o when q_dim ==
//     kv_dim, up→down), and the consumers' columns are multiplied by them.
//  2. In order q/k/v → o → gate/up → down, the input of the group is computed
//     from the block with every earlier group already compressed; its
//     Hessian H = 2XᵀX/N is accumulated; each layer is compressed (RTN or
//     GPTQ, on its GGUF type's block grid or on the integer group grid, with
//     optional importance weights and AWQ clipping) and replaced by its
//     dequantized values for the stages after it.
//  3. The compressed block's output is the next block's input.
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

#include "core/dtype.h"
#include "grids/int_grid.h"
#include "io/imatrix.h"
#include "methods/sparsity.h"
#include "model/checkpoint.h"
#include "pipeline/calibrated_tensors.h"

namespace lmpack {

enum class RoundingMethod { kRtn, kGptq };

// Unstructured / N:M pruning of every linear weight (`lmpack prune`): the
// mask by magnitude, Wanda (|W|·‖X_j‖ from the layer's Hessian diagonal) or
// SparseGPT (OBS updates in the sequential order, jointly quantized onto the
// target grid when it is not a float type). Magnitude and Wanda masks are
// applied, then the weight is rounded to nearest onto the target grid (zeros
// stay zeros on grids that hold 0: symmetric formats and integer grids).
enum class PruneMethod { kMagnitude, kWanda, kSparseGpt };
struct PruneSpec {
  PruneMethod method = PruneMethod::kMagnitude;
  SparsityPattern pattern;
};

struct CalibrationRecipe {
  RoundingMethod rounding = RoundingMethod::kGptq;
  bool awq = false;       // scale search + folding before rounding
  bool awq_clip = false;  // AWQ clipping search (integer grids; not q/k)
  int awq_grid = 20;
  double damp = 0.01;        // GPTQ dampening (fraction of mean diag H)
  int64_t block_size = 128;  // GPTQ lazy-batch width
  // Importance weights for the grid searches (per column of each linear), by
  // canonical tensor name: an imatrix (llama.cpp's mean x²). Null: none.
  std::shared_ptr<const ImportanceMatrix> importance;
  // Target grids: the GGUF type of every linear weight (GGUF output), or one
  // integer group grid for all of them (GPTQ/AWQ exports).
  std::map<std::string, DType> gguf_types;
  std::optional<IntGridSpec> int_grid;
  int64_t group_size = 128;  // integer grid: columns per group, -1 per channel
  bool act_order = false;    // integer grid + GPTQ
  std::optional<PruneSpec> prune;  // prune instead of (before) rounding
  bool show_progress = true;
};

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
};

class SequentialCalibration final : public CalibratedTensors {
 public:
  // windows: calibration token windows (eval/calibration.h), all of one
  // length; may be empty only for plain RTN. Throws Error for a recipe that
  // needs calibration without windows, and for a linear without a target.
  SequentialCalibration(const Checkpoint& ckpt, std::vector<std::vector<int32_t>> windows, CalibrationRecipe recipe);
  ~SequentialCalibration() override;

  bool handles(const std::string& name) const override;
  std::vector<float> take_f32(const std::string& name) override;
  std::vector<uint8_t> take_encoded(const std::string& name, DType type) override;
  QuantizedMatrix take_int(const std::string& name) override;

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

// The canonical names of the seven linear weights of block `layer`, in the
// order they are compressed.
std::vector<std::string> block_linear_names(int64_t layer);

}  // namespace lmpack
