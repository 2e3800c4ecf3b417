// End-to-end: `lmpack prune` on stories260K — the --json report (sparsity per
// layer and overall, parameters before/after, the calibration error), a
// structured cut that changes the config and loads back (GGUF and HF), and
// the option errors (one line, exit 1, no output left).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::describe;
using testing::run_cli;
using testing::scratch_dir;
using testing::shared_path;
using testing::stories260k_bin;
using testing::tok512;

std::vector<std::string> calib() {
  return {"--calib", testing::calibration_stories_file(), "--calib-samples", "16", "--calib-ctx", "128"};
}

TEST(PruneCli, WandaJsonReportsExactSparsity) {
  LMPACK_REQUIRE_SHARED();
  const std::string out = scratch_dir("prune", "wanda") + "/w.gguf";
  std::vector<std::string> args = {"prune", stories260k_bin(), out, "--tokenizer", tok512(), "--method", "wanda",
                                   "--sparsity", "0.25", "--json"};
  const auto c = calib();
  args.insert(args.end(), c.begin(), c.end());
  const auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("method"), "wanda");
  EXPECT_EQ(j.at("layers").size(), 35u);
  for (const auto& l : j.at("layers")) {
    EXPECT_NEAR(l.at("sparsity").get<double>(), 0.25, 0.01) << l.dump();  // rounding per row of 64/172
    EXPECT_GT(l.at("relative_error").get<double>(), 0.0) << l.dump();
  }
  EXPECT_EQ(j.at("parameters"), j.at("parameters_before")) << "unstructured keeps the shapes";
  EXPECT_EQ(j.at("nonzero_parameters").get<int64_t>(),
            j.at("parameters").get<int64_t>() - j.at("linear_zeros").get<int64_t>());
  EXPECT_TRUE(fs::exists(out));
  args = {"info", out, "--json"};
  EXPECT_EQ(run_cli(args).exit_code, 0);
}

TEST(PruneCli, StructuredCutChangesTheConfigAndLoads) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("prune", "structured");
  for (const std::string& out : {d + "/s.gguf", d + "/hf"}) {
    std::vector<std::string> args = {"prune", stories260k_bin(), out, "--tokenizer", tok512(), "--heads", "2",
                                     "--ffn-width", "129", "--drop-blocks", "1", "--json"};
    const auto c = calib();
    args.insert(args.end(), c.begin(), c.end());
    const auto r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << describe(args, r);
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("config").at("n_layers"), 4);
    EXPECT_EQ(j.at("config").at("n_heads"), 6);
    EXPECT_EQ(j.at("config").at("n_kv_heads"), 3);
    EXPECT_EQ(j.at("config").at("hidden_dim"), 129);
    EXPECT_LT(j.at("parameters").get<int64_t>(), j.at("parameters_before").get<int64_t>());
    std::vector<std::string> info = {"info", out, "--json", "--tokenizer", tok512()};
    const auto i = run_cli(info);
    ASSERT_EQ(i.exit_code, 0) << describe(info, i);
    EXPECT_EQ(nlohmann::json::parse(i.out).at("parameters"), j.at("parameters")) << i.out;
  }
}

TEST(PruneCli, OptionErrors) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("prune", "errors"), out = d + "/x.gguf";
  struct Case {
    std::vector<std::string> extra;
    const char* names;
  };
  const Case cases[] = {
      {{"--method", "wanda", "--sparsity", "0.5"}, "--calib"},
      {{"--method", "sparsegpt", "--pattern", "2:4"}, "--calib"},
      {{"--sparsity", "0.5", "--pattern", "2:4"}, "--sparsity"},
      {{}, "--sparsity"},
      {{"--sparsity", "1.5"}, "--sparsity"},
      {{"--pattern", "4:2"}, "--pattern"},
      {{"--method", "obs", "--sparsity", "0.5"}, "--method"},
      {{"--heads", "3", "--calib", testing::calibration_stories_file()}, "--heads"},
      {{"--drop-blocks", "5", "--calib", testing::calibration_stories_file()}, "--drop-blocks"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"prune", stories260k_bin(), out, "--tokenizer", tok512()};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << describe(args, r);
    EXPECT_EQ(r.err_lines(), 1) << describe(args, r);
    EXPECT_NE(r.err.find(c.names), std::string::npos) << describe(args, r);
    EXPECT_FALSE(fs::exists(out));
  }
}

}  // namespace
}  // namespace lmpack
