// Calibration text for a job (compress, imatrix): which files, how many
// windows of how many tokens, and how they are cut (eval/calibration.h). One
// validation and one tokenization for every job that calibrates, with the
// model's own tokenizer. Errors name the field ("calibration.samples") or the
// file, never a command-line flag.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/checkpoint.h"

namespace lmpack {

struct CalibrationSource {
  std::vector<std::string> files;  // text files, concatenated
  int64_t samples = 128;           // windows
  int64_t ctx = 0;                 // tokens per window; 0: default_calibration_ctx of the model
  uint64_t seed = 0;
  bool consecutive = false;        // windows from the start instead of random starts
};

// Error("calibration.files", ...) when `required` and no file is given;
// Error("calibration.samples" / "calibration.ctx", ...) for numbers no cut
// can take; Error("calibration.files", "<file>: no such file or directory")
// for a file that is not there. Needs no model.
void validate_calibration_source(const CalibrationSource& calibration, bool required);

// Calibration token windows of `calibration` with ckpt's tokenizer; Error(vocab_source, ...)
// when a token id falls outside the model's vocabulary (a tokenizer from another model).
std::vector<std::vector<int32_t>> calibration_windows_for(const Checkpoint& ckpt, const CalibrationSource& calibration,
                                                          const std::string& vocab_source);

// The warning for windows longer than ckpt's trained context (positions
// beyond it are extrapolated, which llama.cpp allows too); "" when none.
std::string calibration_context_warning(const Checkpoint& ckpt, const CalibrationSource& calibration);

}  // namespace lmpack
