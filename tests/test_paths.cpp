#include "test_paths.h"

#include "find_shared_dir.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace lmpack::testing {

std::string shared_dir() { return find_shared_dir(source_dir()); }

std::string shared_path(const std::string& relative) { return shared_dir() + "/" + relative; }

std::string source_dir() { return LMPACK_SOURCE_DIR; }

std::string lmpack_binary() {
#ifdef LMPACK_BINARY
  return LMPACK_BINARY;
#else
  return {};
#endif
}

std::string temp_dir() {
  namespace fs = std::filesystem;
  static std::string dir = [] {
    fs::path p = fs::temp_directory_path() / ("lmpack-test-" + std::to_string(::getpid()));
    // Fresh: a folder of this name is an earlier process's that had the same
    // PID (no live process shares it), and its files would be taken for this
    // run's (ExportIntHf.FailureMidwayLeavesNothing failed once on a stale
    // export_int_fails/ when PIDs wrapped around).
    std::error_code ec;
    fs::remove_all(p, ec);
    fs::create_directories(p);
    return p.string();
  }();
  return dir;
}

}  // namespace lmpack::testing
