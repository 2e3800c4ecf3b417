// The importance matrix of a model (`lmpack imatrix`): every calibration
// window runs through the fast forward from position 0 (runtime/forward.h), an
// observer accumulates the squared inputs of every linear layer's columns
// (stats/act_stats.h), and the result is llama.cpp's imatrix content: the
// mean of x² per column, with the chunk count and size (io/imatrix.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/imatrix.h"
#include "model/checkpoint.h"
#include "pipeline/calibration_source.h"

namespace lmpack {

// windows: calibration token windows of one length (eval/calibration.h),
// at least one. datasets: names stored with the matrix (the text files).
// Throws Error("calibration", ...) for no windows or windows of different
// lengths; polls interrupts between windows.
ImportanceMatrix compute_importance_matrix(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                           std::vector<std::string> datasets, bool show_progress = true);

// The whole job: model (and a vocabulary from elsewhere), calibration text,
// one output imatrix GGUF written atomically at the end (an interrupt leaves
// nothing). Errors name the field ("calibration.samples", "output") or the file.
struct ImatrixRequest {
  std::string model;
  std::string tokenizer;  // "" : the model's vocabulary
  CalibrationSource calibration;
  std::string output;
  bool show_progress = true;
};

struct ImatrixReport {
  int64_t tensors = 0;
  int64_t windows = 0;
  int64_t window_tokens = 0;
  std::vector<std::string> warnings;
};

ImatrixReport run_imatrix_job(const ImatrixRequest& request);

}  // namespace lmpack
