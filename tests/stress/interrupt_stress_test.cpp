// Interrupt stress (issue 9; ctest label "stress"): GPTQ quantization and
// SparseGPT pruning of ts-llama-4.9M, interrupted again and again at random
// moments with SIGINT or SIGTERM. With signal handlers, about 1 run in 8 died
// of heap corruption ("corrupted size vs. prev_size", exit 134, temporary
// left): the signal frame landed while oneDNN's JIT sgemm used its stack
// pointer as a pointer into the heap. Now no thread but the listener ever
// takes a signal (core/interrupt.h).
// Every run must exit 128 + signal with exactly one line on stderr and leave
// neither an output nor a temporary; a run whose work was done before its
// signal arrived must instead exit 0 with a complete output (counted, and
// allowed only rarely, or the test would not test interrupts).
// The moments are drawn over the length of an uninterrupted run, measured
// first and shortened whenever a run finishes faster (the machine may have
// been busier while the reference ran); ctest runs the test alone (RUN_SERIAL).
// LMPACK_STRESS_RUNS (default 30) and LMPACK_STRESS_SEED change the runs.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "cli_runner.h"
#include "fault_helpers.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::ChildResult;

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v ? std::strtol(v, nullptr, 10) : fallback;
}

std::vector<std::string> command(bool prune, const std::string& out) {
  std::vector<std::string> a;
  if (prune)
    a = {"prune", testing::ts_llama_bin(), out, "--method", "sparsegpt", "--sparsity", "0.5"};
  else
    a = {"quantize", testing::ts_llama_bin(), out, "Q4_K_M", "--method", "gptq"};
  // Every hardware thread (lmpack clamps -t there): oneDNN's threads are busy when the signal comes.
  a.insert(a.end(), {"--tokenizer", testing::tok512(), "--calib", testing::calibration_stories_file(),
                     "--calib-samples", "32", "--calib-ctx", "256"});
  return a;
}

// Seconds an uninterrupted run takes (and that it succeeds).
double reference_seconds(bool prune, const std::string& dir) {
  const std::string out = dir + "/reference.gguf";
  ChildProcess child = testing::start_cli(command(prune, out), dir + "/logs");
  const ChildResult r = child.wait(300);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out));
  fs::remove(out);
  return r.seconds;
}

TEST(InterruptStress, GptqAndSparseGptStopCleanlyAtAnyMoment) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = testing::scratch_dir("stress", "interrupt", true);
  const long runs = env_or("LMPACK_STRESS_RUNS", 30);
  const unsigned seed = static_cast<unsigned>(env_or("LMPACK_STRESS_SEED", std::random_device{}()));
  std::mt19937 rng(seed);
  double seconds[2] = {reference_seconds(false, dir), reference_seconds(true, dir)};
  std::map<std::string, int> seen;  // "quantize SIGINT -> 130" -> count
  int finished_first = 0;
  for (long i = 0; i < runs; ++i) {
    const bool prune = i % 3 == 2;
    const int sig = rng() % 2 ? SIGINT : SIGTERM;
    const double at = std::uniform_real_distribution<double>(0.03, 0.85)(rng) * seconds[prune];
    const std::string work = dir + "/run" + std::to_string(i);
    fs::create_directories(work);
    const std::string out = work + "/out.gguf";
    ChildProcess child = testing::start_cli(command(prune, out), dir + "/logs");
    std::this_thread::sleep_for(std::chrono::duration<double>(at));
    child.signal(sig);
    const ChildResult r = child.wait(60);
    const std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    seen[std::string(prune ? "prune" : "quantize") + " " + name + " -> " + std::to_string(r.exit_code)]++;
    const std::string what = "run " + std::to_string(i) + " (seed " + std::to_string(seed) +
                             "): " + (prune ? "prune" : "quantize") + ", " + name + " after " + std::to_string(at) +
                             " s\n";
    if (r.exit_code == 0) {  // the work was done before the signal
      ++finished_first;
      seconds[prune] = std::min(seconds[prune], at + r.seconds);  // the next moments fall inside a run
      EXPECT_TRUE(fs::exists(out)) << what;
      EXPECT_EQ(testing::run_cli({"info", out}).exit_code, 0) << what;
      fs::remove(out);
    } else {
      EXPECT_EQ(r.exit_code, 128 + sig) << what << r.err;
      EXPECT_EQ(r.err, "lmpack: interrupted by " + name + "; stopped, no partial output left\n") << what;
    }
    EXPECT_EQ(testing::names_in(work), std::vector<std::string>{}) << what;
    fs::remove_all(work);
  }
  std::string summary;
  for (const auto& [k, n] : seen) summary += "  " + k + ": " + std::to_string(n) + "\n";
  std::printf("%ld interrupted runs (seed %u), runs last %.2f s (quantize) and %.2f s (prune):\n%s", runs, seed,
              seconds[0], seconds[1], summary.c_str());
  EXPECT_LE(finished_first, runs / 5) << "too many runs ended before their signal:\n" << summary;
}

}  // namespace
}  // namespace lmpack
