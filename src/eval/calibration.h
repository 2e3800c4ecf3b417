// Calibration input for calibrated quantization methods (imatrix, GPTQ, ...):
// text files tokenized with the model's own tokenizer and cut into windows.
//
// The files are read and tokenized one after another (no BOS) and the ids
// concatenated; each window is BOS (when the vocabulary has one) followed by
// ctx - 1 consecutive text tokens (ctx text tokens without a BOS). Window
// starts are drawn uniformly with a seeded RNG (random, the default: same
// seed, same windows), or are consecutive: window i starts at text token
// i * ctx, so that with a BOS one text token between windows is skipped, as in
// llama.cpp's imatrix (text tokenized with BOS, cut every ctx tokens, each
// chunk's first token replaced by BOS): the same windows as its chunks.
// lmpack has no built-in calibration set: at least one file is required.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lmpack {

// Calibration sets beyond this many tokens (windows x tokens per window) are
// refused before anything is allocated: typical sets hold 128 x 512 to
// 512 x 2048 tokens.
inline constexpr int64_t kMaxCalibrationTokens = int64_t{1} << 24;

// The window length used when none is asked for: 512 tokens, or the model's
// trained context when that is shorter (ts-llama-4.9M: 256).
inline constexpr int64_t kDefaultCalibrationCtx = 512;
int64_t default_calibration_ctx(int64_t model_context_length);

struct CalibrationOptions {
  std::vector<std::string> files;  // text files, concatenated in this order
  int64_t samples = 128;           // windows
  int64_t ctx = 512;               // tokens per window, BOS included
  uint64_t seed = 0;               // for random window starts
  bool random = true;              // false: consecutive windows from the start
};

// Throws Error("calibration.files", ...) when no file is given, Error(file, ...) for an
// unreadable file, Error("calibration.samples" / "calibration.ctx", ...) for numbers
// < 1 (ctx < 2 with a BOS), for text shorter than one window, and in
// consecutive mode for text too short for `samples` windows.
std::vector<std::vector<int32_t>> calibration_windows(const Tokenizer& tokenizer, const CalibrationOptions& options);

// Windows cut from already tokenized text (no BOS in `text`): the part of
// calibration_windows() after reading and tokenizing; `bos` < 0: none.
std::vector<std::vector<int32_t>> cut_calibration_windows(const std::vector<int32_t>& text, int32_t bos,
                                                          const CalibrationOptions& options);

}  // namespace lmpack
