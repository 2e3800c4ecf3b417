// A student held on the grids of a GGUF type while it distills (quantization-
// aware distillation, as in BitDistiller and EfficientQAT): the WeightGrid
// (train/training_loop.h) behind `lmpack distill --student-type TYPE`.
//
// The type's plan (pipeline/gguf_quantize.h plan_gguf: llama.cpp's mix rules,
// overrides and fallbacks) gives every tensor its type; the tensors it keeps
// in F32 (norms) train as they are. Each step every other tensor is encoded
// from the latent weights block by block, choosing per block between two
// grids, whichever fits the latent weights better (importance-weighted
// squared error, the importance quantize_to_gguf would use: the imatrix's):
//   the start grid   the block's scales and mins as the student file stores
//                    them (when its tensor is of the planned type), the codes
//                    rounded to nearest on them;
//   a fresh fit      the type's own encoder, quantize_row, on the latent
//                    weights: the format's scale search, re-run every step so
//                    that the grid follows the weights as they move.
// A student file made by GPTQ sits exactly on its start grid, so training
// starts from that calibrated model, not from a re-encoding of it, and
// distillation improves on it. The choice is a function of the latent
// weights and the start file only, so a resumed run projects as the
// uninterrupted one did. Types with no uniform block grid (IQ4_NL, F16, BF16)
// are fitted fresh only.
//
// The output is a GGUF of the type (quantize_to_gguf, with these blocks as its
// calibrated tensors), which llama.cpp runs and which decodes to exactly the
// weights the last step trained on (tested). Supported: every type the writer
// has (the k-quants Q2_K..Q6_K and their mixes, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// IQ4_NL, F16, BF16).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "formats/format.h"
#include "pipeline/gguf_quantize.h"
#include "train/training_loop.h"

namespace lmpack {

class GgufStudentGrid final : public WeightGrid {
 public:
  // options: the type (a mix or one tensor type), overrides and the imatrix
  // (path or already read), as for quantize_to_gguf. `start`: the student's
  // checkpoint (its tensors of the planned types give the start grids).
  // Throws what plan_gguf and tensor_importance throw (naming the option or
  // the imatrix file).
  GgufStudentGrid(const TrainableModel& model, const Checkpoint& start, QuantizeOptions options);

  void project(const float* latent, float* projected) override;
  void write(const TrainableModel& latent, const Checkpoint& base, const std::string& path) override;
  std::map<std::string, std::string> describe() const override;

  const GgufTypePlan& plan() const { return plan_; }
  // Tensors the plan quantizes that the imatrix has no entry for (encoded without importance).
  const std::vector<std::string>& without_importance() const { return without_importance_; }
  // Of the blocks that have a start grid, the fraction the last projection
  // (or write) kept on it.
  double start_grid_share() const;

 private:
  struct Held {
    std::string name;
    size_t offset;
    int64_t rows, cols;
    const FormatOps* ops;
    const float* importance;    // [cols] or nullptr
    size_t row_bytes;
    std::vector<uint8_t> start;  // the start file's rows, or empty
  };
  // Encodes h's rows of latent into bytes and their decoded values into out.
  void encode(const Held& h, const float* latent, float* out, uint8_t* bytes);

  QuantizeOptions options_;
  GgufTypePlan plan_;
  std::vector<Held> held_;  // in offset order
  size_t size_ = 0;         // floats in the layout
  std::vector<std::string> without_importance_;
  std::map<std::string, std::string> describe_;
  int64_t start_blocks_ = 0;
  std::atomic<int64_t> kept_on_start_{0};
};

}  // namespace lmpack
