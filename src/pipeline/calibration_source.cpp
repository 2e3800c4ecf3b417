// Calibration text for a job; see calibration_source.h.
#include "pipeline/calibration_source.h"

#include <filesystem>
#include <memory>

#include "core/error.h"
#include "eval/calibration.h"
#include "model/load_model.h"
#include "tokenizer/tokenizer.h"

namespace lmpack {

void validate_calibration_source(const CalibrationSource& c, bool required) {
  if (required && c.files.empty())
    throw Error("calibration.files", "calibrated methods need calibration text; lmpack has no built-in calibration set");
  if (c.samples < 1) throw Error("calibration.samples", cat("must be a positive integer, got ", c.samples));
  if (c.ctx != 0 && c.ctx < 2) throw Error("calibration.ctx", cat("must be at least 2, got ", c.ctx));
  for (const std::string& f : c.files) {
    std::error_code ec;
    if (!std::filesystem::exists(f, ec)) throw Error("calibration.files", cat(f, ": no such file or directory"));
  }
}

std::vector<std::vector<int32_t>> calibration_windows_for(const Checkpoint& ckpt, const CalibrationSource& c,
                                                          const std::string& vocab_source) {
  std::unique_ptr<Tokenizer> tokenizer = tokenizer_for(ckpt);
  CalibrationOptions o;
  o.files = c.files;
  o.samples = c.samples;
  o.ctx = c.ctx != 0 ? c.ctx : default_calibration_ctx(ckpt.config.context_length);
  o.seed = c.seed;
  o.random = !c.consecutive;
  std::vector<std::vector<int32_t>> windows = calibration_windows(*tokenizer, o);
  for (const std::vector<int32_t>& w : windows) check_token_ids(w, ckpt, vocab_source);
  return windows;
}

std::string calibration_context_warning(const Checkpoint& ckpt, const CalibrationSource& c) {
  if (c.ctx <= 0) return "";
  return beyond_context_warning("calibration.ctx", c.ctx, ckpt);
}

}  // namespace lmpack
