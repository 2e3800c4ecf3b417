// End-to-end: `lmpack imatrix` on stories260K.gguf and ts-llama-4.9M with
// TinyStories validation stories 200-999 as calibration text: the GGUF imatrix
// it writes reads back with one entry per linear weight of the right width,
// every value finite and >= 0, the same file for the same seed; quantizing
// ts-llama-4.9M with it changes the output; and the option errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "io/gguf.h"
#include "io/imatrix.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::describe;
using testing::run_cli;
using testing::scratch_dir;
using testing::shared_path;
using testing::slurp;
using testing::stories260k_gguf;
using testing::tok512;
using testing::ts_llama_bin;

TEST(ImatrixCli, WritesAnEntryPerLinearWeight) {
  LMPACK_REQUIRE_SHARED();
  const std::string text = testing::calibration_stories_file(), d = scratch_dir("imatrix", "stories");
  const std::string out = d + "/a.imatrix.gguf", again = d + "/b.imatrix.gguf";
  std::vector<std::string> args = {"imatrix", stories260k_gguf(), "--calib", text, "--calib-samples", "8",
                                   "--calib-ctx", "128", "-o", out};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_NE(r.out.find("36 tensors from 8 windows of 128 tokens"), std::string::npos) << r.out;
  const ImportanceMatrix im = read_imatrix(out);
  EXPECT_EQ(im.chunk_count, 8);
  EXPECT_EQ(im.chunk_size, 128);
  EXPECT_EQ(im.datasets, std::vector<std::string>({"stories200-999.txt"}));
  const GgufFile g = read_gguf(stories260k_gguf());
  size_t linear = 0;
  for (const auto& t : g.tensors) {
    const bool is_linear = t.shape.size() == 2 && t.name != "token_embd.weight";
    if (!is_linear) continue;
    ++linear;
    auto it = im.values.find(t.name);
    ASSERT_NE(it, im.values.end()) << t.name;
    EXPECT_EQ(static_cast<int64_t>(it->second.size()), t.cols()) << t.name;
    double sum = 0;
    for (float v : it->second) {
      EXPECT_TRUE(std::isfinite(v) && v >= 0.0f) << t.name << " " << v;
      sum += v;
    }
    EXPECT_GT(sum, 0.0) << t.name;
  }
  EXPECT_EQ(linear, 36u);
  EXPECT_EQ(im.values.size(), linear);

  args.back() = again;  // same seed: the same file
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_EQ(slurp(again), slurp(out));
}

TEST(ImatrixCli, QuantizeWithTheImatrixChangesTheModel) {
  LMPACK_REQUIRE_SHARED();
  const std::string text = testing::calibration_stories_file(), d = scratch_dir("imatrix", "ts");
  const std::string im_path = d + "/ts.imatrix.gguf";
  std::vector<std::string> args = {"imatrix", ts_llama_bin(), "--tokenizer", tok512(), "--calib", text,
                                   "--calib-samples", "8", "--calib-ctx", "128", "--consecutive", "-o", im_path};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  const ImportanceMatrix im = read_imatrix(im_path);
  ASSERT_EQ(im.values.count("token_embd.weight"), 1u);  // tied: the output matmul reads token_embd
  EXPECT_EQ(im.values.at("blk.5.ffn_down.weight").size(), 768u);
  EXPECT_EQ(im.values.at("blk.0.attn_q.weight").size(), 256u);

  const std::string plain = d + "/plain.gguf", with = d + "/with.gguf";
  args = {"quantize", ts_llama_bin(), plain, "Q4_K_M", "--tokenizer", tok512(), "--json"};
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  const int64_t plain_tensor_bytes = nlohmann::json::parse(r.out).at("output_bytes").get<int64_t>();
  args = {"quantize", ts_llama_bin(), with, "Q4_K_M", "--tokenizer", tok512(), "--imatrix", im_path, "--json"};
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  const auto j = nlohmann::json::parse(r.out);
  int used = 0;
  for (const auto& t : j["tensors"]) used += t["importance"].get<bool>();
  EXPECT_GE(used, 42) << r.out;  // 6 layers x 7 matrices
  // Same types, same tensor bytes; the files differ in lmpack.recipe (which names the imatrix) too.
  EXPECT_EQ(plain_tensor_bytes, j.at("output_bytes").get<int64_t>());
  EXPECT_NE(slurp(plain), slurp(with));
}

TEST(ImatrixCli, OptionErrorsAreOneLine) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("imatrix", "errors"), out = d + "/x.gguf";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string text = testing::calibration_stories_file();
  const std::vector<Case> cases = {
      {{"imatrix", stories260k_gguf(), "-o", out},
       "lmpack: --calib: calibrated methods need calibration text; lmpack has no built-in calibration set\n"},
      {{"imatrix", stories260k_gguf(), "--calib", text, "--calib-samples", "0", "-o", out},
       "lmpack: --calib-samples: must be a positive integer, got 0\n"},
      {{"imatrix", stories260k_gguf(), "--calib", text, "--calib-ctx", "1", "-o", out},
       "lmpack: --calib-ctx: must be at least 2, got 1\n"},
      {{"imatrix", stories260k_gguf(), "--calib", d + "/none.txt", "-o", out},
       "lmpack: --calib: " + d + "/none.txt: no such file or directory\n"},
  };
  for (const Case& c : cases) {
    auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 1) << describe(c.args, r);
    EXPECT_EQ(r.err, c.message);
    EXPECT_FALSE(fs::exists(out));
  }
  // Text shorter than one window: refused, nothing written.
  const std::string tiny = d + "/tiny.txt";
  std::ofstream(tiny) << "Once upon a time.";
  auto r = run_cli({"imatrix", stories260k_gguf(), "--calib", tiny, "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("shorter than one window of 512"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace lmpack
