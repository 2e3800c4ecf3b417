// The calibration options shared by `lmpack imatrix` and `lmpack quantize`
// (--calib, --calib-samples, --calib-ctx, --seed, --consecutive) and turning
// them into token windows with the model's own tokenizer (eval/calibration.h).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "model/checkpoint.h"

namespace lmpack::cli {

struct CalibCliOptions {
  std::vector<std::string> files;
  int64_t samples = 128;
  int64_t ctx = 0;  // 0: default_calibration_ctx (512, or the model's context when shorter)
  uint64_t seed = 0;
  bool consecutive = false;
};

void add_calibration_options(CLI::App* app, CalibCliOptions& o);

// Checks the numbers and that each file exists (Error naming the option).
void validate_calibration_options(const CalibCliOptions& o);

// --calib-ctx as given, else the default for this model. A length beyond the
// model's trained context is allowed with a warning on stderr (as eval --ctx).
int64_t calibration_ctx_for(const Checkpoint& ckpt, const CalibCliOptions& o);

// Windows from the files (calibration_ctx_for tokens each); `model_or_tokenizer` names the vocabulary's source
// in the error for a token id outside the model's vocabulary.
std::vector<std::vector<int32_t>> calibration_windows_for(const Checkpoint& ckpt, const CalibCliOptions& o,
                                                          const std::string& model_or_tokenizer);

}  // namespace lmpack::cli
