// End-to-end: `lmpack distill` cuts ts-llama-4.9M into a student, trains it on
// the teacher's distributions, prints the cut and a JSON line per step, and
// writes a GGUF that `lmpack eval` runs; mistakes name the flag, exit 1 and
// write nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "fault_helpers.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::describe;
using testing::run_cli;
using testing::scratch_dir;

std::vector<std::string> distill_args(const std::string& d) {
  return {"distill", "--teacher", testing::ts_llama_bin(), "--tokenizer", testing::tok512(), "--prune-drop-blocks",
          "3", "--prune-heads", "4", "--prune-ffn-width", "192", "--prune-windows", "4", "--data",
          testing::shared_path("data/tinystories-valid/tinystories_valid_first1000.txt"), "-o", d + "/s.gguf",
          "--steps", "4", "--batch", "2", "--seq", "64", "--temperature", "2"};
}

TEST(DistillCli, PrunedStudentTrainsAndEvaluates) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("distill", "pruned", true);
  auto args = distill_args(d);
  args.insert(args.end(), {"--hidden-weight", "0.3"});
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_NE(r.out.find("teacher 4852992 parameters, student 870144 (5.6x fewer"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hidden states matched (student block->teacher block): 0->"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("blocks 6 -> 3, heads 8/4 -> 4/2, FFN 768 -> 192"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("distilled 870144 parameters on 512 tokens (4 steps"), std::string::npos) << r.out;
  auto eval = run_cli({"eval", d + "/s.gguf", "--text", testing::calibration_stories_file(), "--ctx", "64",
                       "--chunks", "4"});
  EXPECT_EQ(eval.exit_code, 0) << eval.err;
}

TEST(DistillCli, MistakesNameTheFlag) {
  LMPACK_REQUIRE_SHARED();
  const std::string d = scratch_dir("distill", "mistakes", true);
  auto both = distill_args(d);
  both.insert(both.end(), {"--teacher-samples", "4"});
  auto r = run_cli(both);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "lmpack: --teacher-samples: the text is either --data or sampled from the teacher, not both\n");
  auto alpha = distill_args(d);
  alpha.insert(alpha.end(), {"--alpha", "2"});
  r = run_cli(alpha);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "lmpack: --alpha: must be between 0 and 1, got 2\n");
  auto typed = distill_args(d);
  typed.insert(typed.end(), {"--student-type", "Q2_K", "--type", "f16"});
  r = run_cli(typed);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "lmpack: --type: the quantized student is written in the types of Q2_K, not f16\n");
  auto imatrix = distill_args(d);
  imatrix.insert(imatrix.end(), {"--imatrix", d + "/x.imatrix"});
  r = run_cli(imatrix);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "lmpack: --imatrix: weights the scale search of a quantized student: give --student-type too\n");
  auto hidden = distill_args(d);
  hidden.insert(hidden.end(), {"--hidden-weight", "1", "--teacher-cache", d + "/t.cache"});
  r = run_cli(hidden);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("lmpack: --hidden-weight: hidden-state matching needs the teacher's states of every batch", 0),
            0u)
      << r.err;
  EXPECT_TRUE(testing::names_in(d).empty());
}

}  // namespace
}  // namespace lmpack
