// The calibration step as `lmpack quantize` and `lmpack prune` describe it
// (rounding method, AWQ, pruning, target grids), and the engine plan it
// becomes (make_calibration_plan): the one place that maps those words to the
// methods (methods/*_method.h) and grids (grids/) that implement them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/dtype.h"
#include "grids/int_grid.h"
#include "io/imatrix.h"
#include "methods/sparsity.h"
#include "model/checkpoint.h"
#include "runtime/block_forward.h"

namespace lmpack {

struct CalibrationPlan;

enum class RoundingMethod { kRtn, kGptq };

// Unstructured / N:M pruning of every linear weight (`lmpack prune`): the
// mask by magnitude, Wanda (|W|·‖X_j‖ from the layer's Hessian diagonal) or
// SparseGPT (OBS updates in the sequential order, jointly quantized onto the
// target grid when a sweep can round onto it). Magnitude and Wanda masks are
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
  // A mixture of experts: an expert routed fewer calibration tokens than
  // this has its Hessian built from every token of its block instead
  // (runtime/block_forward.h).
  int64_t min_expert_tokens = kMinExpertTokens;
  bool show_progress = true;
};

// The method and grids of a recipe for the linears of ckpt. Throws Error for
// a bad pattern or grid, a clipping search without an integer grid, and a
// block linear the recipe gives no target.
CalibrationPlan make_calibration_plan(const Checkpoint& ckpt, const CalibrationRecipe& recipe);

}  // namespace lmpack
