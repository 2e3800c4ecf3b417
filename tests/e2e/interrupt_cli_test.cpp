// Interrupts and kills of the real CLI (issue 9):
// - every command stops soon after its first SIGINT or SIGTERM, exits
//   128 + signal with one line on stderr and leaves no output or temporary;
// - a SIGKILL cannot clean up, but the next run writing the same output
//   removes the stale temporary (file or folder) and says so, and leaves
//   the temporaries of live processes alone.
// The repeated GPTQ/SparseGPT interrupt stress is tests/stress/.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "cli_runner.h"
#include "fault_helpers.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::ChildResult;
using testing::scratch_dir;

// A random Llama big enough that writing it takes a while (about 72 MB),
// made on first use and removed after the suite.
std::string big_model_path() { return testing::temp_dir() + "/interrupt-big-model"; }

const std::string& big_model() {
  static const std::string path = [] {
    const std::string p = big_model_path();
    const testing::CliResult r = testing::run_cli({"random-model", p, "--dim", "256", "--ffn", "768", "--layers", "2",
                                                   "--heads", "4", "--vocab", "32000", "--seed", "7"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return p;
  }();
  return path;
}

// A vocabulary of 32000 tokens for it (GGUF outputs need one).
std::string big_model_vocab() { return testing::shared_path("models/llama-2-tiny-random/llama-2-tiny-random.gguf"); }

std::vector<std::string> ts_llama_gptq(const std::string& out, const std::vector<std::string>& more = {}) {
  std::vector<std::string> a = {"quantize", testing::ts_llama_bin(), out, "Q4_K_M", "--tokenizer", testing::tok512(),
                                "--method", "gptq", "--calib", testing::calibration_stories_file(),
                                "--calib-samples", "64", "--calib-ctx", "256"};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

// How the test knows the command is at work before it sends the signal.
enum class Busy {
  kTemporary,  // its temporary output exists
  kTokens,     // stdout has grown past the prompt (generate)
  kAWhile,     // 1.5 s have passed (imatrix: its file is made only at the end)
};

struct Case {
  const char* name;
  int signal;
  // The command line, writing into `dir` (its output is dir/out...).
  std::vector<std::string> (*args)(const std::string& dir);
  Busy busy;
  const char* output;  // under dir, for Busy::kTemporary
};

std::string tmp_of(const std::string& path, pid_t pid) { return path + ".tmp." + std::to_string(pid); }

const Case kCases[] = {
    {"generate", SIGINT,
     [](const std::string&) {
       return std::vector<std::string>{"generate", testing::ts_llama_bin(), "--tokenizer", testing::tok512(), "-p",
                                       "Once upon a time", "-n", "250", "--reference", "-t", "1"};
     },
     Busy::kTokens, ""},
    {"eval", SIGTERM,
     [](const std::string& d) {
       return std::vector<std::string>{"eval",  testing::ts_llama_bin(), "--tokenizer",        testing::tok512(),
                                       "--text", testing::tinystories_valid(), "--ctx", "256", "--save-logits",
                                       d + "/out.logits"};
     },
     Busy::kTemporary, "out.logits"},
    {"imatrix", SIGINT,
     [](const std::string& d) {
       return std::vector<std::string>{"imatrix",        testing::ts_llama_bin(), "--tokenizer", testing::tok512(),
                                       "--calib",        testing::tinystories_valid(), "--calib-samples", "2000",
                                       "--calib-ctx",    "256", "-o", d + "/out.imatrix"};
     },
     Busy::kAWhile, ""},
    {"convert-gguf", SIGINT,
     [](const std::string& d) {
       return std::vector<std::string>{"convert", big_model(), d + "/out.gguf", "--type", "f32", "--tokenizer",
                                       big_model_vocab()};
     },
     Busy::kTemporary, "out.gguf"},
    {"convert-hf", SIGTERM,
     [](const std::string& d) { return std::vector<std::string>{"convert", big_model(), d + "/out", "--type", "f32"}; },
     Busy::kTemporary, "out"},
    {"random-model", SIGINT,
     [](const std::string& d) {
       return std::vector<std::string>{"random-model", d + "/out", "--dim", "1024", "--ffn", "2816", "--layers", "8",
                                       "--heads", "8", "--vocab", "32000"};
     },
     Busy::kTemporary, "out"},
    {"quantize-rtn", SIGTERM,
     [](const std::string& d) {
       return std::vector<std::string>{"quantize", big_model(), d + "/out.gguf", "Q4_K_M", "--tokenizer",
                                       big_model_vocab()};
     },
     Busy::kTemporary, "out.gguf"},
    {"quantize-gptq-folder", SIGINT,
     [](const std::string& d) {
       return ts_llama_gptq(d + "/out", {"--format", "gptq", "--bits", "4", "--group-size", "128"});
     },
     Busy::kTemporary, "out"},
    {"prune-sparsegpt", SIGTERM,
     [](const std::string& d) {
       return std::vector<std::string>{"prune", testing::ts_llama_bin(), d + "/out.gguf", "--tokenizer",
                                       testing::tok512(), "--method", "sparsegpt", "--sparsity", "0.5", "--calib",
                                       testing::calibration_stories_file(), "--calib-samples", "64", "--calib-ctx",
                                       "256"};
     },
     Busy::kTemporary, "out.gguf"},
};

class InterruptCommand : public ::testing::TestWithParam<Case> {
 public:
  static void TearDownTestSuite() { fs::remove_all(big_model_path()); }
};

TEST_P(InterruptCommand, StopsAtTheFirstSignalWithItsExitCode) {
  LMPACK_REQUIRE_SHARED();
  const Case& c = GetParam();
  const std::string dir = scratch_dir("interrupt", c.name, true);
  const std::string logs = dir + "-logs";
  fs::remove_all(logs);
  const std::vector<std::string> args = c.args(dir);
  ChildProcess child = testing::start_cli(args, logs);
  if (c.busy == Busy::kTokens) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (testing::slurp(logs + "/child.out").size() < 24 && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } else if (c.busy == Busy::kAWhile) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  } else {
    const std::string mark = tmp_of(dir + "/" + c.output, child.pid());
    ASSERT_TRUE(child.wait_for(mark, 60)) << mark << " never appeared; stderr: " << testing::slurp(logs + "/child.err");
  }
  child.signal(c.signal);
  const ChildResult r = child.wait(30);
  const std::string name = c.signal == SIGINT ? "SIGINT" : "SIGTERM";
  EXPECT_EQ(r.exit_code, 128 + c.signal) << r.err;
  EXPECT_EQ(r.err, "lmpack: interrupted by " + name + "; stopped, no partial output left\n");
  EXPECT_LT(r.seconds, 3.0) << "from the signal to the exit";
  EXPECT_EQ(testing::names_in(dir), std::vector<std::string>{}) << "no output, no temporary";
}

INSTANTIATE_TEST_SUITE_P(EveryCommand, InterruptCommand, ::testing::ValuesIn(kCases),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

// Kills a GPTQ run once its temporary exists; returns the killed pid.
pid_t kill_while_writing(const std::vector<std::string>& args, const std::string& out, const std::string& logs) {
  ChildProcess child = testing::start_cli(args, logs);
  const pid_t pid = child.pid();
  EXPECT_TRUE(child.wait_for(tmp_of(out, pid), 60)) << testing::slurp(logs + "/child.err");
  child.signal(SIGKILL);
  EXPECT_EQ(child.wait(30).exit_code, 128 + SIGKILL);
  EXPECT_TRUE(fs::exists(tmp_of(out, pid))) << "a SIGKILL can run no code: the temporary stays";
  return pid;
}

TEST(StaleTemporaries, NextRunRemovesThoseOfKilledRunsAndSaysSo) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("stale", "killed", true);
  const std::string logs = dir + "-logs";
  const std::string file = dir + "/out.gguf", folder = dir + "/out";
  const pid_t file_pid = kill_while_writing(ts_llama_gptq(file), file, logs);
  const pid_t folder_pid = kill_while_writing(ts_llama_gptq(folder, {"--format", "gptq"}), folder, logs);

  // A temporary of a live process (this test's own pid) is not stale.
  const std::string live = tmp_of(file, ::getpid());
  std::ofstream(live) << "being written";

  testing::CliResult r = testing::run_cli({"convert", testing::stories260k_gguf(), file, "--type", "q8_0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "lmpack: " + tmp_of(file, file_pid) + ": removed a stale temporary left by process " +
                       std::to_string(file_pid) + ", which no longer runs\n");
  r = testing::run_cli({"convert", testing::stories260k_gguf(), folder, "--type", "f16"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "lmpack: " + tmp_of(folder, folder_pid) + ": removed a stale temporary left by process " +
                       std::to_string(folder_pid) + ", which no longer runs\n");
  EXPECT_EQ(testing::names_in(dir), (std::vector<std::string>{"out", "out.gguf", fs::path(live).filename().string()}));
  EXPECT_EQ(testing::run_cli({"info", file}).exit_code, 0);
  EXPECT_EQ(testing::run_cli({"info", folder}).exit_code, 0);
}

}  // namespace
}  // namespace lmpack
