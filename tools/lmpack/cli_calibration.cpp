// Calibration options; see cli_calibration.h.
#include "cli_calibration.h"

namespace lmpack::cli {

void add_calibration_options(CLI::App* app, CalibrationSource& c) {
  app->add_option("--calib", c.files, "Calibration text file (repeatable; concatenated)")->allow_extra_args(false);
  app->add_option("--calib-samples", c.samples, "Windows of calibration text (default 128)");
  app->add_option("--calib-ctx", c.ctx, "Tokens per window, BOS included (default 512, or the model's context if shorter)");
  app->add_option("--seed", c.seed, "Seed for the random window starts (default 0)");
  app->add_flag("--consecutive", c.consecutive, "Consecutive windows from the start instead of random ones");
}

}  // namespace lmpack::cli
