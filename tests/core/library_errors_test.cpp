// The library names the field or file an error is about, never a command-line
// flag (the CLI maps fields to its flags in tools/lmpack/cli_errors.cpp): no
// source file under src/ throws Error("--...") or passes a flag as the place
// of a parse error, and no message or note in src/ mentions a flag ("--ctx"):
// a message refers to a field in backquotes ("`calibration.ctx`"), which the
// CLI shows as its flag.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "test_paths.h"

namespace lmpack {
namespace {

TEST(LibraryErrors, NameFieldsNotFlags) {
  namespace fs = std::filesystem;
  const fs::path src = fs::path(testing::source_dir()) / "src";
  ASSERT_TRUE(fs::is_directory(src)) << src;
  // Error("--x", ...), or a parser given "--x" / "TYPE" as the place to name.
  const std::regex flag_as_place(
      R"re((Error|parse_[a-z_]*type|make_tensor_type_override|split_tensor_type_argument)\(\s*"(--[a-z]|-[a-z]"|TYPE"))re");
  // A string literal that holds a flag: "... --name".
  const std::regex flag_in_text(R"re("([^"]*[ (])?--[a-z])re");
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    if (!entry.is_regular_file()) continue;
    const std::string ext = entry.path().extension().string();
    if (ext != ".cpp" && ext != ".h") continue;
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      const std::string code = line.substr(0, line.find("//"));
      EXPECT_FALSE(std::regex_search(code, flag_as_place)) << entry.path().string() << ":" << n << ": " << line;
      EXPECT_FALSE(std::regex_search(code, flag_in_text)) << entry.path().string() << ":" << n << ": " << line;
    }
  }
  EXPECT_GT(files, 100) << "the scan found too few sources under " << src;
}

}  // namespace
}  // namespace lmpack
