#include "test_paths.h"

#include "find_shared_dir.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

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

namespace {

std::string& scratch_path() {
  static std::string path;
  return path;
}
pid_t scratch_owner = 0;

// At exit, the scratch directory goes, unless a test failed (its files then
// help to see why: the path is printed) or LMPACK_KEEP_TEST_DIR is set. Only
// the process that made it removes it: a forked child that exits must not.
void remove_scratch_at_exit() {
  const std::string& path = scratch_path();
  if (path.empty() || ::getpid() != scratch_owner) return;
  const ::testing::UnitTest* unit = ::testing::UnitTest::GetInstance();
  if (std::getenv("LMPACK_KEEP_TEST_DIR") != nullptr || (unit != nullptr && unit->Failed())) {
    std::fprintf(stderr, "test scratch directory kept: %s\n", path.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace

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
    scratch_path() = p.string();
    scratch_owner = ::getpid();
    std::atexit(remove_scratch_at_exit);
    return p.string();
  }();
  return dir;
}

}  // namespace lmpack::testing
