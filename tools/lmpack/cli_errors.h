// The one table from the library's request fields to this CLI's flags: a
// library error names the field it is about ("calibration.samples: must be
// >= 1"), and main prints it with the flag the user typed ("--calib-samples:
// must be >= 1"). A command may name its own flags for fields first
// (Command::flags), and a command whose flags fill a compression request's
// steps (quantize, prune) sees "steps[1].damp" as "damp". A field the text
// refers to in backquotes ("lower `calibration.ctx`") is shown as its flag
// too. Errors about anything else (files, tensors) pass as they are.
#pragma once

#include <string>
#include <vector>

#include "cli_common.h"
#include "core/error.h"

namespace lmpack::cli {

// The message to print for e, raised while `command` ran (nullptr: none).
std::string message_for_user(const Error& e, const Command* command);

// "lmpack: warning: <w>" on stderr for each of a report's warnings, fields in backquotes shown as flags.
void print_warnings(const std::vector<std::string>& warnings);

}  // namespace lmpack::cli
