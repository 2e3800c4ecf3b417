// Replays every committed fuzz input through its harness: the crash, leak and
// timeout reproducers under tests/fuzz/regressions/<harness>/ (named after
// what they reproduce) and the hand-made seeds under tests/fuzz/seeds/<harness>/.
// A harness aborts on a broken check, so each input runs as its own test
// (one ctest process each) and a regression names its file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_harness.h"
#include "fuzz_shared.h"

namespace lmpack::fuzz {
namespace {

namespace fs = std::filesystem;

struct Input {
  const Harness* harness;
  std::string path;
};

std::vector<Input> committed_inputs() {
  std::vector<Input> inputs;
  for (const char* kind : {"regressions", "seeds"}) {
    for (const Harness& h : harnesses()) {
      const fs::path dir = fs::path(LMPACK_SOURCE_DIR) / "tests" / "fuzz" / kind / h.name;
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) continue;
      std::vector<std::string> files;
      for (const auto& entry : fs::directory_iterator(dir))
        if (entry.is_regular_file() && entry.path().filename() != "README.md") files.push_back(entry.path().string());
      std::sort(files.begin(), files.end());
      for (std::string& f : files) inputs.push_back({&h, std::move(f)});
    }
  }
  return inputs;
}

class FuzzRegression : public ::testing::TestWithParam<Input> {};

TEST_P(FuzzRegression, Replays) {
  const Input& in = GetParam();
  if (in.harness->needs_shared && shared_dir().empty())
    GTEST_SKIP() << "../shared (real vocabularies, see ../shared/DATA.md) is absent; harness " << in.harness->name
                 << " needs it";
  std::ifstream file(in.path, std::ios::binary);
  ASSERT_TRUE(file.good()) << in.path;
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // The harness aborts on a broken check, throws nothing but what escapes a
  // reader, and swallows checked lmpack::Errors.
  in.harness->fn(bytes.data(), bytes.size());
}

std::string test_name(const ::testing::TestParamInfo<Input>& info) {
  std::string name = std::string(info.param.harness->name) + "_" + fs::path(info.param.path).filename().string() +
                     (info.param.path.find("/regressions/") != std::string::npos ? "" : "_seed");
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

// CMakeLists.txt builds one libFuzzer target per name in LMPACK_FUZZ_TARGETS;
// the table the drivers share must hold the same names, in the same order.
TEST(FuzzHarnesses, TableMatchesTheCMakeTargets) {
  std::string names;
  for (const Harness& h : harnesses()) {
    if (!names.empty()) names += ',';
    names += h.name;
  }
  EXPECT_EQ(names, LMPACK_FUZZ_TARGETS);
}

INSTANTIATE_TEST_SUITE_P(Committed, FuzzRegression, ::testing::ValuesIn(committed_inputs()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(FuzzRegression);

}  // namespace
}  // namespace lmpack::fuzz
