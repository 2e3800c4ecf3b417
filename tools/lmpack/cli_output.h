// The output check every writing command makes before any work: the library's
// check_output_path (core/output_path.h) with the command's inputs, so that
// a missing or read-only output folder, or an output that is (or, for a
// folder, holds) an input, is refused before an hour of calibration.
#pragma once

#include <string>
#include <vector>

#include "core/output_path.h"

namespace lmpack::cli {

// A folder output may replace an existing folder holding only the files
// lmpack's Hugging Face writers produce (hf_output_files()). `inputs` may
// hold empty strings (options not given); `more_inputs` is appended (the
// calibration files).
void check_output(const std::string& out, OutputKind kind, const std::vector<std::string>& inputs,
                  const std::vector<std::string>& more_inputs = {});

}  // namespace lmpack::cli
