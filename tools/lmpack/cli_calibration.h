// The calibration options shared by `lmpack imatrix`, `quantize`, `prune` and
// `compress` (--calib, --calib-samples, --calib-ctx, --seed, --consecutive),
// bound to the library's CalibrationSource (pipeline/calibration_source.h),
// which validates them.
#pragma once

#include <CLI/CLI.hpp>

#include "pipeline/calibration_source.h"

namespace lmpack::cli {

void add_calibration_options(CLI::App* app, CalibrationSource& calibration);

}  // namespace lmpack::cli
