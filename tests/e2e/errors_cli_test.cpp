// End-to-end error paths: every failure is one line "lmpack: ..." on stderr
// naming the file or option, a non-zero exit, and no output file left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::describe;
using testing::run_cli;
using testing::scratch_dir;
using testing::shared_path;
using testing::stories260k_bin;
using testing::stories260k_gguf;
using testing::tinystories_valid;
using testing::tok512;

// Nothing in `dir` but `allowed` entries (no outputs, no temporaries).
void expect_only(const std::string& dir, const std::vector<std::string>& allowed) {
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), name), allowed.end()) << "left behind: " << e.path();
  }
}

void expect_one_line_failure(const std::vector<std::string>& args, const CliResult& r,
                             const std::vector<std::string>& mentions) {
  EXPECT_NE(r.exit_code, 0) << describe(args, r);
  EXPECT_EQ(r.err_lines(), 1) << describe(args, r);
  EXPECT_EQ(r.err.rfind("lmpack: ", 0), 0u) << describe(args, r);
  for (const std::string& m : mentions) EXPECT_NE(r.err.find(m), std::string::npos) << "'" << m << "' not in\n" << describe(args, r);
}

void copy_truncated(const std::string& from, const std::string& to, uint64_t keep) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write);
  fs::resize_file(to, keep);
}

TEST(CliErrors, NonexistentModel) {
  const std::string dir = scratch_dir("err", "missing", true);
  const std::string model = dir + "/no-such-model.gguf";
  for (const char* cmd : {"info", "eval", "generate", "tokenize", "convert"}) {
    std::vector<std::string> args = {cmd, model};
    if (std::string(cmd) == "eval")
      args.insert(args.end(), {"--text", tinystories_valid(), "--save-logits", dir + "/x.logits"});
    if (std::string(cmd) == "generate") args.insert(args.end(), {"-p", "Once"});
    if (std::string(cmd) == "tokenize") args.insert(args.end(), {"--text", "hi"});
    if (std::string(cmd) == "convert") args.push_back(dir + "/out");
    auto r = run_cli(args);
    expect_one_line_failure(args, r, {model});
    EXPECT_TRUE(r.out.empty()) << describe(args, r);
  }
  expect_only(dir, {});
}

struct TruncCase {
  const char* name;
  const char* source;  // relative to shared/
  bool hf;             // copy the folder, truncate model.safetensors
};

class TruncatedModel : public ::testing::TestWithParam<TruncCase> {};

TEST_P(TruncatedModel, EvalFailsCleanly) {
  LMPACK_REQUIRE_SHARED();
  const TruncCase& c = GetParam();
  const std::string dir = scratch_dir("err", std::string("trunc-") + c.name, true);
  std::string model, victim;
  if (c.hf) {
    model = dir + "/model";
    fs::create_directories(model);
    fs::copy_file(shared_path(std::string(c.source) + "/config.json"), model + "/config.json");
    victim = model + "/model.safetensors";
    const std::string src = shared_path(std::string(c.source) + "/model.safetensors");
    copy_truncated(src, victim, fs::file_size(src) * 2 / 3);
  } else {
    victim = model = dir + "/" + fs::path(c.source).filename().string();
    const std::string src = shared_path(c.source);
    copy_truncated(src, victim, fs::file_size(src) / 2);
  }
  const std::string out = dir + "/out.logits";
  std::vector<std::string> args = {"eval", model, "--text", tinystories_valid(), "--doc-separator", "<|endoftext|>",
                                   "--max-docs", "2", "--save-logits", out, "--ctx", "512"};
  if (c.hf || std::string(c.name) == "bin") args.insert(args.end(), {"--tokenizer", tok512()});
  auto r = run_cli(args);
  expect_one_line_failure(args, r, {victim});
  EXPECT_FALSE(fs::exists(out));
  expect_only(dir, {"model", fs::path(victim).filename().string()});

  args = {"info", model, "--json"};
  r = run_cli(args);
  expect_one_line_failure(args, r, {victim});
  EXPECT_TRUE(r.out.empty()) << describe(args, r);
}

INSTANTIATE_TEST_SUITE_P(Stories260K, TruncatedModel,
                         ::testing::Values(TruncCase{"gguf", "models/stories260K/stories260K.gguf", false},
                                           TruncCase{"bin", "models/stories260K/stories260K.bin", false},
                                           TruncCase{"hf", "models/stories260K-hf", true}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CliErrors, TruncatedHeaderOnly) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("err", "header", true);
  for (uint64_t keep : {0, 3, 20, 100}) {
    const std::string model = dir + "/cut.gguf";
    copy_truncated(stories260k_gguf(), model, keep);
    std::vector<std::string> args = {"info", model};
    auto r = run_cli(args);
    expect_one_line_failure(args, r, {model});
  }
}

TEST(CliErrors, UnknownArchitectureInConfigJson) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("err", "arch", true);
  const std::string model = dir + "/model";
  fs::create_directories(model);
  fs::copy_file(shared_path("models/stories260K-hf/model.safetensors"), model + "/model.safetensors");
  std::string config = testing::slurp(shared_path("models/stories260K-hf/config.json"));
  for (const std::string from : {"LlamaForCausalLM", "\"llama\""}) {
    size_t at = config.find(from);
    ASSERT_NE(at, std::string::npos) << config;
    config.replace(at, from.size(), from[0] == '"' ? "\"gpt_neox\"" : "GPTNeoXForCausalLM");
  }
  std::ofstream(model + "/config.json") << config;
  const std::string out = dir + "/out.logits";
  std::vector<std::string> args = {"eval", model, "--tokenizer", tok512(), "--text", tinystories_valid(),
                                   "--save-logits", out};
  auto r = run_cli(args);
  expect_one_line_failure(args, r, {"config.json"});
  EXPECT_FALSE(fs::exists(out));
  expect_only(dir, {"model"});
}

TEST(CliErrors, BadOptionValues) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("err", "options", true);
  const std::string bin = stories260k_bin();
  const std::string logits = dir + "/x.logits";
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {{"convert", bin, dir + "/hf", "--type", "q9"}, {"--type", "q9"}},
      {{"convert", bin, dir + "/out.gguf", "--type", "q4_0"}, {"--type", "q4_0", "q8_0"}},
      {{"eval", bin, "--tokenizer", tok512(), "--text", tinystories_valid(), "--chunks=-1", "--save-logits", logits},
       {"--chunks", "-1"}},
      {{"eval", bin, "--tokenizer", tok512(), "--text", tinystories_valid(), "--ctx", "0", "--save-logits", logits},
       {"--ctx", "0"}},
      {{"eval", bin, "--tokenizer", tok512(), "--text", dir + "/missing.txt", "--save-logits", logits},
       {"missing.txt"}},
      {{"eval", bin, "--tokenizer", tok512(), "--text", tinystories_valid(), "--base", dir + "/nobase.logits"},
       {"nobase.logits"}},
      {{"eval", bin, "--tokenizer", dir + "/missing-tok.bin", "--text", tinystories_valid()}, {"missing-tok.bin"}},
      {{"eval", bin, "--tokenizer", tok512(), "--text", tinystories_valid(), "--ctx", "abc"}, {"--ctx", "abc"}},
      {{"eval", bin, "--tokenizer", tok512(), "--text", tinystories_valid(), "--ctx", "512", "--chunks", "1000000",
        "--score-second-half", "--max-docs", "3"},
       {"--max-docs"}},
      {{"random-model", dir + "/rm", "--dim", "64", "--ffn", "128", "--layers", "1", "--heads", "4", "--dtype", "f8"},
       {"--dtype", "f8"}},
      {{"random-model", dir + "/rm", "--dim", "64", "--ffn", "128", "--layers=-2", "--heads", "4"},
       {"--layers", "-2"}},
      {{"random-model", dir + "/rm", "--dim", "64", "--ffn", "128", "--layers", "1", "--heads", "5"},
       {"--heads", "5"}},
      {{"generate", bin, "--tokenizer", tok512(), "-p", "Once", "--top-p", "1.5"}, {"--top-p", "1.5"}},
      {{"generate", bin, "--tokenizer", tok512(), "-p", "Once", "--threads=-3"}, {"-t", "-3"}},
      {{"info", bin, "--no-such-option"}, {"--no-such-option"}},
      {{"frobnicate"}, {"frobnicate"}},
  };
  for (const Case& c : cases) {
    auto r = run_cli(c.args);
    expect_one_line_failure(c.args, r, c.mentions);
  }
  expect_only(dir, {});
}

TEST(CliErrors, TextTooShortForAWindow) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("err", "short", true);
  const std::string text = dir + "/short.txt";
  std::ofstream(text) << "Once upon a time there was a cat.";
  std::vector<std::string> args = {"eval", stories260k_bin(), "--tokenizer", tok512(), "--text", text, "--ctx", "64"};
  auto r = run_cli(args);
  expect_one_line_failure(args, r, {text, "a window of 64 needs 64", "smaller --ctx"});
}

}  // namespace
}  // namespace lmpack
