// Where ../shared (real models, text and vocabularies) is, for the GoogleTest
// suites (test_paths.h) and the fuzz harnesses (fuzz_shared.h) alike; no gtest.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace lmpack::testing {

// LMPACK_SHARED_DIR when set (or "" when it does not exist), else
// <source_dir>/../shared when it holds models/, else "".
inline std::string find_shared_dir(const std::string& source_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* env = std::getenv("LMPACK_SHARED_DIR"); env != nullptr && *env)
    return fs::exists(env, ec) ? std::string(env) : std::string();
  const fs::path p = fs::path(source_dir) / ".." / "shared";
  return fs::exists(p / "models", ec) ? fs::canonical(p, ec).string() : std::string();
}

}  // namespace lmpack::testing
