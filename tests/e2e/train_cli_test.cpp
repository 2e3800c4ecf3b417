// End-to-end: `lmpack train` from a config.json on TinyStories with tok512
// prints one JSON object per step and one for the run, writes a GGUF that
// `lmpack eval` runs, and --resume from the state continues where it
// stopped; mistakes in the options are one line naming the flag, exit 1,
// nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "fault_helpers.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::describe;
using testing::run_cli;
using testing::scratch_dir;

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

std::vector<std::string> train_args(const std::string& d, const std::string& out, const char* steps) {
  const std::string config = d + "/config.json";
  std::ofstream(config) << R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 32, "intermediate_size": 96,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 512,
    "max_position_embeddings": 64, "tie_word_embeddings": true})";
  return {"train", "--config", config, "--tokenizer", testing::tok512(), "--data",
          testing::shared_path("data/tinystories-valid/tinystories_valid_first1000.txt"), "-o", d + "/" + out,
          "--steps", steps, "--batch", "2", "--seq", "32", "--lr", "3e-3", "--json"};
}

TEST(TrainCli, JsonLinesAModelThatEvaluatesAndAResume) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("train", "json", true);
  auto args = train_args(d, "m.gguf", "6");
  args.insert(args.end(), {"--save-every", "3"});
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 7u) << r.out;
  for (int i = 0; i < 6; ++i) EXPECT_EQ(lines[i]["step"], i + 1);
  EXPECT_EQ(lines[6]["steps"], 6);
  EXPECT_EQ(lines[6]["tokens_trained"], 6 * 2 * 32);
  EXPECT_GT(lines[6]["tokens_per_s"].get<double>(), 0.0);

  auto eval = run_cli({"eval", d + "/m.gguf", "--text", testing::calibration_stories_file(), "--ctx", "64",
                       "--chunks", "4"});
  EXPECT_EQ(eval.exit_code, 0) << eval.err;

  // The run has done its 6 steps: a resume has nothing left to do.
  auto more = train_args(d, "m.gguf", "6");
  more.insert(more.end(), {"--resume"});
  auto again = run_cli(more);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("has done all 6 steps already"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
}

TEST(TrainCli, OptionMistakesNameTheFlag) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("train", "mistakes", true);
  auto args = train_args(d, "m.gguf", "4");
  args.insert(args.end(), {"--min-lr", "0.5"});
  auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 1) << describe(args, r);
  EXPECT_EQ(r.err, "lmpack: --min-lr: must be between 0 and --lr (0.003), got 0.5\n");
  auto two = train_args(d, "m.gguf", "4");
  two.insert(two.end(), {"--like", testing::shared_path("models/stories260K/stories260K.gguf")});
  r = run_cli(two);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--model: give exactly one of --model"), std::string::npos) << r.err;
  auto size = train_args(d, "m.gguf", "4");
  size.insert(size.end(), {"--activation-memory", "lots"});
  r = run_cli(size);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "lmpack: --activation-memory: 'lots' is not a size such as 512M, 2.5GiB or 3GB\n");
  size.back() = "2K";
  r = run_cli(size);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("lmpack: --activation-memory: 2 KiB is less than the ", 0), 0u) << r.err;
  EXPECT_EQ(testing::names_in(d), (std::vector<std::string>{"config.json"}));
}

}  // namespace
}  // namespace lmpack
