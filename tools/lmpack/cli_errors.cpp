// Library fields -> CLI flags; see cli_errors.h.
#include "cli_errors.h"

#include <map>

namespace lmpack::cli {

std::string message_for_user(const Error& e) {
  static const std::map<std::string, std::string> kFlags = {
      {"calibration.files", "--calib"},
      {"calibration.samples", "--calib-samples"},
      {"calibration.ctx", "--calib-ctx"},
      {"calibration", "--calib"},
      {"model", "MODEL"},
      {"output", "OUT"},
  };
  auto it = kFlags.find(e.where());
  if (it == kFlags.end()) return e.what();
  return it->second + ": " + e.problem();
}

}  // namespace lmpack::cli
