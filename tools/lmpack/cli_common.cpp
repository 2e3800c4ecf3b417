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
