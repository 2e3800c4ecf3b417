// End-to-end: `lmpack demo` (issue 13) with nothing from ../shared: a model
// trained here on generated stories (a few steps, to keep the test short),
// a sweep on it with one method; the table and claims printed, the time
// printed, results.json and report.html written, the model a GGUF that
// loads. Bad options: one line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "io/gguf.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::describe;
using testing::run_cli;
using testing::scratch_dir;

TEST(DemoCli, TrainsAModelSweepsItAndWritesTheReport) {
  const std::string dir = scratch_dir("demo", "run", true) + "/out";
  const std::vector<std::string> args = {"demo", "--train-steps", "40", "--methods", "rtn", "-o", dir};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  for (const char* s : {"== training the demo model", "== sweeping: rtn", "x smaller", "quality kept", "rtn Q4_K_M",
                        "rtn 3 bpw", "claim: 4-bit keeps", "report: ", "demo done in "})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  // Training lowered the loss: "loss A -> B" with B < A.
  const size_t at = r.out.find(", loss ");
  ASSERT_NE(at, std::string::npos) << r.out;
  double first = 0, last = 0;
  ASSERT_EQ(std::sscanf(r.out.c_str() + at, ", loss %lf -> %lf", &first, &last), 2) << r.out.substr(at, 40);
  EXPECT_LT(last, first - 1.0);
  // The files.
  const GgufFile g = read_gguf(dir + "/demo-model.gguf");
  EXPECT_EQ(g.get_int("llama.block_count"), 4);
  EXPECT_FALSE(fs::exists(dir + "/demo-model.gguf.train-state"));
  std::ifstream in(dir + "/report/results.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["runs"].size(), 7u);  // 4 mixes + 3 targets
  EXPECT_GT(j["eval"]["tokens"].get<int64_t>(), 10000);
  EXPECT_TRUE(fs::exists(dir + "/report/report.html"));
  for (const char* f : {"train.txt", "calibration.txt", "evaluation.txt"}) EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
}

TEST(DemoCli, BadOptionsFailWithOneLine) {
  const std::string dir = scratch_dir("demo", "errors", true);
  { std::ofstream(dir + "/file") << "x"; }
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--text", dir + "/file", "-o", dir + "/o"}, "--text"},
      {{"--train-steps", "0", "-o", dir + "/o"}, "--train-steps"},
      {{"-o", dir + "/file"}, "-o"},
      {{dir + "/missing.gguf", "-o", dir + "/o"}, "missing.gguf"},
      {{"--methods", "rtn,awq", "--train-steps", "1", "-o", dir + "/o"}, "awq"},
  };
  for (const auto& [extra, mention] : cases) {
    std::vector<std::string> args = {"demo"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << describe(args, r);
    EXPECT_EQ(r.err_lines(), 1) << describe(args, r);
    EXPECT_NE(r.err.find(mention), std::string::npos) << mention << "\n" << describe(args, r);
  }
}

}  // namespace
}  // namespace lmpack
