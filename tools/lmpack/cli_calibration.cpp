// Calibration options; see cli_calibration.h.
#include "cli_calibration.h"

#include "cli_common.h"
#include "core/error.h"
#include "eval/calibration.h"
#include "pipeline/compress.h"

namespace lmpack::cli {

void add_calibration_options(CLI::App* app, CalibCliOptions& o) {
  app->add_option("--calib", o.files, "Calibration text file (repeatable; concatenated)")->allow_extra_args(false);
  app->add_option("--calib-samples", o.samples, "Windows of calibration text (default 128)");
  app->add_option("--calib-ctx", o.ctx, "Tokens per window, BOS included (default 512, or the model's context if shorter)");
  app->add_option("--seed", o.seed, "Seed for the random window starts (default 0)");
  app->add_flag("--consecutive", o.consecutive, "Consecutive windows from the start instead of random ones");
}

void validate_calibration_options(const CalibCliOptions& o) {
  if (o.files.empty())
    throw Error("--calib", "calibrated methods need --calib FILE; lmpack has no built-in calibration set");
  require_positive("--calib-samples", o.samples);
  if (o.ctx != 0 && o.ctx < 2) throw Error("--calib-ctx", cat("must be at least 2, got ", o.ctx));
  for (const std::string& f : o.files) require_existing_path("--calib", f);
}

int64_t calibration_ctx_for(const Checkpoint& ckpt, const CalibCliOptions& o) {
  if (o.ctx == 0) return default_calibration_ctx(ckpt.config.context_length);
  warn_beyond_context("--calib-ctx", o.ctx, ckpt);
  return o.ctx;
}

std::vector<std::vector<int32_t>> calibration_windows_for(const Checkpoint& ckpt, const CalibCliOptions& o,
                                                          const std::string& model_or_tokenizer) {
  CalibrationSource c;
  c.files = o.files;
  c.samples = o.samples;
  c.ctx = calibration_ctx_for(ckpt, o);  // warns beyond the model's context
  c.seed = o.seed;
  c.consecutive = o.consecutive;
  return lmpack::calibration_windows_for(ckpt, c, model_or_tokenizer);
}

}  // namespace lmpack::cli
