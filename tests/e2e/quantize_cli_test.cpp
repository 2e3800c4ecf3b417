// End-to-end: `lmpack quantize` and `lmpack convert ... OUT.gguf` on
// stories260K: the summary (text and --json), the written file, exit codes
// and one-line errors for a bad TYPE, regex, override and imatrix, with no
// output left behind on failure.
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
using testing::shared_path;
using testing::stories260k_bin;
using testing::tok512;

TEST(QuantizeCli, PrintsSummaryAndWritesTheFile) {
  LMPACK_REQUIRE_SHARED();
  const std::string out = scratch_dir("quantize", "summary") + "/s.gguf";
  const std::vector<std::string> args = {"quantize",    stories260k_bin(), out, "Q4_K_M",
                                         "--tokenizer", tok512(),          "-t", "2"};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_TRUE(r.err.empty()) << r.err;
  for (const char* s :
       {"as Q4_K_M (general.file_type 15)",
        "fallback: 28 tensor(s) with 64 columns fit no q4_K block of 256, using q5_0",
        "172 columns fit no q6_K block of 256, using f16", "bits/weight", "q5_0", "q8_0", "f16", "total", "ratio"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  const GgufFile g = read_gguf(out);
  EXPECT_EQ(g.get_int("general.file_type"), 15);
  EXPECT_EQ(g.tensors.size(), 47u);  // 5 x 9 + token_embd + output_norm (tied: no output.weight)
}

TEST(QuantizeCli, JsonCarriesTheSameSummary) {
  LMPACK_REQUIRE_SHARED();
  const std::string out = scratch_dir("quantize", "json") + "/s.gguf";
  const std::vector<std::string> args = {"quantize",      stories260k_bin(), out,           "q8_0",
                                         "--tokenizer",   tok512(),          "--json",      "--output-type",
                                         "f16",           "--tensor-type",   "attn_v=q5_1"};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["type"], "Q8_0");
  EXPECT_EQ(j["file_type"], 7);
  EXPECT_EQ(j["file_bytes"].get<uint64_t>(), fs::file_size(out));
  int64_t tensors = 0;
  uint64_t bytes = 0;
  for (const auto& t : j["types"]) {
    tensors += t["tensors"].get<int64_t>();
    bytes += t["bytes"].get<uint64_t>();
  }
  EXPECT_EQ(tensors, 47);
  EXPECT_EQ(bytes, j["output_bytes"].get<uint64_t>());
  EXPECT_LT(j["ratio"].get<double>(), 0.5);
  std::map<std::string, std::string> types;
  for (const auto& t : j["tensors"]) types[t["name"]] = t["type"];
  EXPECT_EQ(types["blk.0.attn_v.weight"], "q5_1");
  EXPECT_EQ(types["blk.0.attn_q.weight"], "q8_0");
  EXPECT_EQ(types["blk.0.ffn_down.weight"], "f16");  // 172 columns: no 32-block fits
  EXPECT_EQ(types["token_embd.weight"], "f16");      // tied: the output type applies to it
}

TEST(QuantizeCli, ConvertWritesGgufAtTheConvertersTypes) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("quantize", "convert");
  for (const char* type : {"f16", "q8_0"}) {
    const std::string out = dir + "/" + type + ".gguf";
    const std::vector<std::string> args = {"convert", stories260k_bin(), out, "--type", type, "--tokenizer", tok512()};
    auto r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << describe(args, r);
    const GgufFile g = read_gguf(out);
    EXPECT_EQ(g.get_int("general.file_type"), std::string(type) == "f16" ? 1 : 7);
    for (const TensorInfo& t : g.tensors) {
      if (t.shape.size() == 1) {
        EXPECT_EQ(t.dtype, DType::F32) << t.name;
      } else if (std::string(type) == "q8_0" && t.cols() == 172) {
        EXPECT_EQ(t.dtype, DType::F16) << t.name;  // fallback
      } else {
        EXPECT_EQ(std::string(dtype_name(t.dtype)), type) << t.name;
      }
    }
  }
}

struct ErrorCase {
  std::vector<std::string> extra;  // after MODEL OUT
  std::vector<std::string> mentions;
};

TEST(QuantizeCli, BadOptionsFailWithOneLineAndNoFile) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("quantize", "errors");
  {
    std::ofstream garbage(dir + "/garbage.imatrix", std::ios::binary);
    garbage << "this is not an imatrix";
  }
  const std::vector<ErrorCase> cases = {
      {{"q4_k_x"}, {"TYPE", "q4_k_x", "Q4_K_M", "iq4_nl"}},
      {{"Q4_K_M", "--tensor-type", "attn_(v=q8_0"}, {"--tensor-type", "attn_(v"}},
      {{"Q4_K_M", "--tensor-type", "attn_v"}, {"--tensor-type", "REGEX=TYPE"}},
      {{"Q4_K_M", "--tensor-type", "attn_v=q9_k"}, {"--tensor-type", "q9_k"}},
      {{"Q4_K_M", "--output-type", "Q4_K_M"}, {"--output-type", "Q4_K_M"}},
      {{"Q4_K_M", "--imatrix", dir + "/missing.imatrix"}, {"missing.imatrix"}},
      {{"Q4_K_M", "--imatrix", dir + "/garbage.imatrix"}, {"garbage.imatrix"}},
  };
  for (const ErrorCase& c : cases) {
    std::vector<std::string> args = {"quantize", stories260k_bin(), dir + "/out.gguf"};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    args.insert(args.end(), {"--tokenizer", tok512()});
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << describe(args, r);
    EXPECT_EQ(r.err_lines(), 1) << describe(args, r);
    EXPECT_EQ(r.err.rfind("lmpack: ", 0), 0u) << describe(args, r);
    for (const std::string& m : c.mentions)
      EXPECT_NE(r.err.find(m), std::string::npos) << m << "\n" << describe(args, r);
    EXPECT_FALSE(fs::exists(dir + "/out.gguf")) << describe(args, r);
  }
  // Only the inputs we made remain: no temporaries.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace lmpack
