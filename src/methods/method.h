// The method interface: what the calibration engine (pipeline/
// sequential_calibration.h) asks of a compression method, and all it knows
// of one. A method decides the values of one linear layer at a time, from
// its weights, the Hessian of its calibration inputs and its target grid;
// it may also transform a whole block first (AWQ's scales), through the
// block's stages. Adding a method is one file that implements this, beside
// the file of its math; the engine never names a method.
//
// The engine walks a block's stages (runtime/block_forward.h): a stage is a
// group of linears that share one input (q/k/v, o, gate/up, down). For each
// stage, in order, it computes the input from the block as compressed so
// far, then compresses the stage's linears one by one with compress(),
// replacing each by its result before the next stage runs (GPTQ's "true
// sequential" order). Without calibration data there is no Hessian and the
// linears are compressed in the same order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "grids/grid.h"
#include "grids/quantized_matrix.h"
#include "stats/hessian.h"

namespace lmpack {

// One linear layer to compress.
struct LinearLayer {
  std::string name;               // canonical tensor name ("blk.3.attn_q.weight")
  const float* w = nullptr;       // [rows, cols] row-major {out, in}, as it stands (after any block transform)
  int64_t rows = 0, cols = 0;
  const Hessian* hessian = nullptr;  // H = 2XᵀX/N of its calibration inputs; null without calibration
  const float* importance = nullptr; // [cols] non-negative weights (an imatrix's mean x²), or null
  const Grid* grid = nullptr;        // the target grid
  bool feeds_attention_scores = false;  // attention q or k: its outputs meet in QKᵀ (after RoPE), not in a sum
};

struct CompressedLayer {
  QuantizedMatrix matrix;       // on layer.grid
  std::string grid;             // what was done, for reports: "q4_K", "q4_K sparsegpt (joint)", ...
  int64_t pruned_nonzero = 0;   // positions a pruning method chose whose final value is not 0
  double awq_alpha = -1.0;      // AWQ's α for this layer (-1: none)
};

// A stage of a block as a method may transform it: its input, the linears it
// feeds, and where a per-channel scale of the input can be folded so that the
// block computes the same function (x/s into the producer, W·diag(s) into
// the consumers).
struct StageLinear {
  std::string name;
  std::vector<float>* w = nullptr;  // [rows, cols], changed in place by a transform
  int64_t rows = 0;
  const Grid* grid = nullptr;              // its target grid
  std::vector<float>* importance = nullptr;  // [cols] or null; a transform rescales it with the columns
};
struct LinearStage {
  const float* input = nullptr;  // X [tokens, cols], valid during the visit only
  int64_t tokens = 0, cols = 0;
  std::vector<StageLinear> linears;
  // The producer of the input, or none (nothing to fold into): a norm's
  // weight [cols] to divide element-wise, or the rows of a linear [cols,
  // producer_cols] (and its bias [cols], possibly empty) to divide row-wise.
  std::vector<float>* producer_norm = nullptr;
  std::vector<float>* producer_rows = nullptr;
  int64_t producer_cols = 0;
  std::vector<float>* producer_bias = nullptr;
  bool has_producer() const { return producer_norm != nullptr || producer_rows != nullptr; }
};

// Runs the block's stages on its uncompressed weights and calls the visitor
// for each, in order; the visitor must not change weights (a transform
// records what it needs and applies it after the walk).
using BlockWalk = std::function<void(const std::function<void(const LinearStage&)>& visit)>;

class Method {
 public:
  virtual ~Method() = default;
  // "gptq", "awq+gptq", "sparsegpt 2:4", ...
  virtual std::string name() const = 0;
  // Whether compress() needs Hessians (the engine then needs calibration text).
  virtual bool needs_calibration() const = 0;
  // Before any linear of a block is compressed (calibration data only):
  // transforms that keep the block's function, through walk().
  virtual void transform_block(const BlockWalk& walk) { (void)walk; }
  // The layer on its grid. Throws Error for what the method cannot do there.
  virtual CompressedLayer compress(const LinearLayer& layer) = 0;
};

}  // namespace lmpack
