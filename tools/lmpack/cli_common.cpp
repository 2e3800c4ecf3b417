#include "cli_common.h"

#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/error.h"

namespace lmpack::cli {

namespace fs = std::filesystem;

void add_threads_option(Command& command) {
  command.app->add_option("-t,--threads", *command.threads, "Threads (default: all hardware threads)");
}

void require_existing_path(const std::string& option_or_path, const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (option_or_path == path) throw Error(path, "no such file or directory");
    throw Error(option_or_path, cat(path, ": no such file or directory"));
  }
}

size_t parse_byte_size(const std::string& option, const std::string& text) {
  const std::string usage = "a size such as 512M or 2G";
  size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw Error(option, cat("'", text, "' is not ", usage));
  }
  std::string unit = text.substr(used);
  for (const char* tail : {"iB", "B"})
    if (unit.size() > std::strlen(tail) && unit.ends_with(tail)) {
      unit.resize(unit.size() - std::strlen(tail));
      break;
    }
  double scale = 0.0;
  if (unit.empty() || unit == "B") scale = 1.0;
  else if (unit == "K" || unit == "k") scale = 1024.0;
  else if (unit == "M" || unit == "m") scale = 1024.0 * 1024.0;
  else if (unit == "G" || unit == "g") scale = 1024.0 * 1024.0 * 1024.0;
  else if (unit == "T" || unit == "t") scale = 1024.0 * 1024.0 * 1024.0 * 1024.0;
  const double bytes = value * scale;
  if (scale == 0.0 || !(bytes >= 1.0) || bytes > 1e18) throw Error(option, cat("'", text, "' is not ", usage));
  return static_cast<size_t>(bytes);
}

std::string format_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(u == 0 ? 0 : 2);
  out << v << " " << units[u];
  return out.str();
}

}  // namespace lmpack::cli
