// The one table from the library's request fields to this CLI's flags: a
// library error names the field it is about ("calibration.samples: must be
// >= 1"), and main prints it with the flag the user typed ("--calib-samples:
// must be >= 1"). Errors about anything else (files, tensors) pass as they are.
#pragma once

#include <string>

#include "core/error.h"

namespace lmpack::cli {

// The message to print for e.
std::string message_for_user(const Error& e);

}  // namespace lmpack::cli
