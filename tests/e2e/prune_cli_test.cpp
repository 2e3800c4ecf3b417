// End-to-end: `lmpack prune` on stories260K — the --json report (sparsity per
// layer and overall, parameters before/after, the calibration error), a
// structured cut that changes the config and loads back (GGUF and HF), and
// the option errors (one line, exit 1, no output left).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "formats/decode.h"
#include "model/checkpoint.h"
#include "pipeline/sequential_calibration.h"
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

// The written GGUF itself, loaded back and decoded: every row of every block
// linear holds exactly round(0.25 · cols) zeros, every other weight is the
// input model's own (an F32 output keeps them bit for bit), and the report's
// sparsity and zero counts are the file's.
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
  ASSERT_EQ(j.at("layers").size(), 35u);

  LoadOptions o;
  o.tokenizer_path = tok512();
  const Checkpoint input = load_checkpoint(stories260k_bin(), o);
  const Checkpoint written = load_checkpoint(out);
  ASSERT_EQ(written.config.n_layers, 5);
  std::map<std::string, int64_t> file_zeros;
  int64_t total_zeros = 0;
  for (int64_t l = 0; l < written.config.n_layers; ++l)
    for (const std::string& name : block_linear_names(l)) {
      const TensorInfo& t = written.tensor(name);
      const TensorInfo& t0 = input.tensor(name);
      ASSERT_EQ(t.dtype, DType::F32) << name;
      ASSERT_EQ(t.shape, t0.shape) << name;
      std::vector<float> w(static_cast<size_t>(t.n_elements())), w0(w.size());
      decode_to_f32(w.data(), t.data, t.dtype, t.n_elements());
      decode_to_f32(w0.data(), t0.data, t0.dtype, t0.n_elements());
      const int64_t per_row = std::llround(0.25 * static_cast<double>(t.cols()));
      int64_t zeros = 0, changed = 0;
      for (int64_t row = 0; row < t.rows(); ++row) {
        int64_t row_zeros = 0;
        for (int64_t col = 0; col < t.cols(); ++col) {
          const float v = w[row * t.cols() + col];
          row_zeros += v == 0.0f;
          changed += v != 0.0f && v != w0[row * t.cols() + col];
        }
        EXPECT_EQ(row_zeros, per_row) << name << " row " << row;
        zeros += row_zeros;
      }
      EXPECT_EQ(changed, 0) << name << ": Wanda onto F32 only sets weights to 0";
      file_zeros[name] = zeros;
      total_zeros += zeros;
    }
  ASSERT_EQ(file_zeros.size(), 35u);

  // The report against the file.
  for (const auto& l : j.at("layers")) {
    const std::string name = l.at("name").get<std::string>();
    ASSERT_TRUE(file_zeros.count(name)) << l.dump();
    const TensorInfo& t = written.tensor(name);
    EXPECT_DOUBLE_EQ(l.at("sparsity").get<double>(),
                     static_cast<double>(file_zeros.at(name)) / static_cast<double>(t.n_elements()))
        << l.dump();
    EXPECT_GT(l.at("relative_error").get<double>(), 0.0) << l.dump();
  }
  EXPECT_EQ(j.at("linear_zeros").get<int64_t>(), total_zeros);
  EXPECT_EQ(j.at("parameters"), j.at("parameters_before")) << "unstructured keeps the shapes";
  EXPECT_EQ(j.at("parameters").get<int64_t>(), written.parameter_count());
  EXPECT_EQ(j.at("nonzero_parameters").get<int64_t>(),
            j.at("parameters").get<int64_t>() - j.at("linear_zeros").get<int64_t>());
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
