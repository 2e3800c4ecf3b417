// Interrupts (core/interrupt.h) in child processes: the cooperative stop
// (poll, unwind, exit 128 + signal), the forced stop after the grace period
// and at a second signal, no commit after an interrupt, every temporary
// removed, ignored signals left ignored, and the signals blocked in every
// OpenMP thread (no signal frame is ever pushed onto a compute thread's
// stack, the cause of the heap corruption in issue 9).
#include "core/interrupt.h"

#include <gtest/gtest.h>
#include <omp.h>
#include <pthread.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "child_process.h"
#include "core/atomic_file.h"
#include "core/atomic_folder.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::ChildProcess;
using testing::ChildResult;
using testing::entries_except_child_files;

void mark_ready(const std::string& dir) { std::ofstream(dir + "/ready") << "1"; }

InterruptOptions probe_options(int grace_ms) {
  InterruptOptions o;
  o.program = "probe";
  o.grace = std::chrono::milliseconds(grace_ms);
  return o;
}

// Polls like lmpack's loops; unwinds on the interrupt and exits through
// exit_interrupted() as lmpack's main does.
int scenario_poll(const std::string& dir) {
  install_interrupt_handler(probe_options(30000));
  try {
    AtomicFile file(dir + "/out.bin");
    AtomicFolder folder(dir + "/out-folder", {"a.bin"});
    AtomicFile inner(folder.file("a.bin"));
    file.write("partial");
    inner.write("partial");
    mark_ready(dir);
    for (;;) {
      throw_if_interrupted();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  } catch (const Interrupted&) {
    std::remove((dir + "/ready").c_str());
    exit_interrupted();
  }
}

// Never polls: only the listener can end it.
int scenario_busy(const std::string& dir) {
  install_interrupt_handler(probe_options(300));
  AtomicFile file(dir + "/out.bin");
  AtomicFolder folder(dir + "/out-folder", {"a.bin"});
  AtomicFile inner(folder.file("a.bin"));
  mark_ready(dir);
  std::atomic<uint64_t> spin{0};
  for (;;) spin.fetch_add(1, std::memory_order_relaxed);
}

int scenario_busy_long_grace(const std::string& dir) {
  install_interrupt_handler(probe_options(60000));
  AtomicFile file(dir + "/out.bin");
  mark_ready(dir);
  for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// The interrupt arrives while the work is done but not yet committed: the
// commit must refuse, and nothing may appear.
int scenario_commit_after_interrupt(const std::string& dir) {
  install_interrupt_handler(probe_options(30000));
  try {
    AtomicFile file(dir + "/out.bin");
    file.write("complete");
    AtomicFolder folder(dir + "/out-folder", {"a.bin"});
    {
      AtomicFile inner(folder.file("a.bin"));
      inner.write("complete");
      inner.commit();
    }
    mark_ready(dir);
    while (!interrupt_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    try {
      folder.commit();
      return 3;  // committed after the interrupt
    } catch (const Interrupted&) {
    }
    file.commit();
    return 4;
  } catch (const Interrupted&) {
    exit_interrupted();
  }
}

// Every thread of the OpenMP team blocks SIGINT, SIGTERM and SIGHUP.
int scenario_omp_mask(const std::string& dir) {
  install_interrupt_handler(probe_options(2000));
  std::atomic<int> threads{0}, unblocked{0};
#pragma omp parallel num_threads(4)
  {
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    threads.fetch_add(1);
    if (!sigismember(&mask, SIGINT) || !sigismember(&mask, SIGTERM) || !sigismember(&mask, SIGHUP))
      unblocked.fetch_add(1);
  }
  std::printf("%d threads, %d unblocked\n", threads.load(), unblocked.load());
  return threads.load() == 4 && unblocked.load() == 0 ? 0 : 1;
}

// What an exception escaping an OpenMP region or a noexcept function does.
int scenario_terminate(const std::string& dir) {
  install_interrupt_handler(probe_options(2000));
  AtomicFile file(dir + "/out.bin");
  AtomicFolder folder(dir + "/out-folder", {"a.bin"});
  file.write("partial");
  std::terminate();
}

int scenario_check_failed(const std::string& dir) {
  AtomicFile file(dir + "/out.bin");
  file.write("partial");
  LMPACK_CHECK(dir.empty(), "a broken invariant");
  return 0;
}

const bool kChild =
    testing::run_child_scenario_if_asked("interrupt", {{"poll", scenario_poll},
                                                       {"busy", scenario_busy},
                                                       {"busy_long_grace", scenario_busy_long_grace},
                                                       {"commit_after_interrupt", scenario_commit_after_interrupt},
                                                       {"omp_mask", scenario_omp_mask},
                                                       {"terminate", scenario_terminate},
                                                       {"check_failed", scenario_check_failed}});

std::string fresh_dir(const std::string& name) {
  const std::string d = testing::temp_dir() + "/interrupt-" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

void expect_one_line(const ChildResult& r, const std::string& signal_name) {
  EXPECT_EQ(r.err, "probe: interrupted by " + signal_name + "; stopped, no partial output left\n");
}

TEST(Interrupt, PollingLoopUnwindsAndExits130) {
  const std::string dir = fresh_dir("poll");
  ChildProcess child = ChildProcess::scenario("interrupt", "poll", dir);
  ASSERT_TRUE(child.wait_for(dir + "/ready"));
  ASSERT_TRUE(std::filesystem::exists(dir + "/out-folder.tmp." + std::to_string(child.pid())));
  child.signal(SIGINT);
  const ChildResult r = child.wait();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  expect_one_line(r, "SIGINT");
  EXPECT_LT(r.seconds, 5.0) << "the grace period (30 s) must not be what ended it";
  EXPECT_EQ(entries_except_child_files(dir), std::vector<std::string>{});  // ready removed by the child
}

TEST(Interrupt, LoopThatNeverPollsIsEndedAfterTheGracePeriod) {
  const std::string dir = fresh_dir("busy");
  ChildProcess child = ChildProcess::scenario("interrupt", "busy", dir);
  ASSERT_TRUE(child.wait_for(dir + "/ready"));
  child.signal(SIGTERM);
  const ChildResult r = child.wait();
  EXPECT_EQ(r.exit_code, 143) << r.err;
  expect_one_line(r, "SIGTERM");
  EXPECT_GE(r.seconds, 0.25);
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_EQ(entries_except_child_files(dir), std::vector<std::string>{"ready"});
}

TEST(Interrupt, SecondSignalEndsAtOnce) {
  const std::string dir = fresh_dir("second");
  ChildProcess child = ChildProcess::scenario("interrupt", "busy_long_grace", dir);
  ASSERT_TRUE(child.wait_for(dir + "/ready"));
  child.signal(SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  child.signal(SIGINT);
  const ChildResult r = child.wait();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  expect_one_line(r, "SIGINT");
  EXPECT_LT(r.seconds, 5.0) << "the grace period is 60 s";
  EXPECT_EQ(entries_except_child_files(dir), std::vector<std::string>{"ready"});
}

TEST(Interrupt, NothingIsCommittedAfterAnInterrupt) {
  const std::string dir = fresh_dir("commit");
  ChildProcess child = ChildProcess::scenario("interrupt", "commit_after_interrupt", dir);
  ASSERT_TRUE(child.wait_for(dir + "/ready"));
  child.signal(SIGTERM);
  const ChildResult r = child.wait();
  EXPECT_EQ(r.exit_code, 143) << r.err;
  expect_one_line(r, "SIGTERM");
  EXPECT_EQ(entries_except_child_files(dir), std::vector<std::string>{"ready"});
}

TEST(Interrupt, IgnoredSigintStaysIgnored) {
  const std::string dir = fresh_dir("ignored");
  testing::ChildOptions o;
  o.ignore_sigint = true;
  ChildProcess child = ChildProcess::scenario("interrupt", "busy", dir, o);
  ASSERT_TRUE(child.wait_for(dir + "/ready"));
  child.signal(SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // over the 300 ms grace
  ASSERT_EQ(::kill(child.pid(), 0), 0) << "SIGINT was ignored at start (nohup): it must stay ignored";
  child.signal(SIGTERM);
  const ChildResult r = child.wait();
  EXPECT_EQ(r.exit_code, 143) << r.err;
}

TEST(Interrupt, EveryOpenMpThreadBlocksTheSignals) {
  const std::string dir = fresh_dir("omp");
  ChildProcess child = ChildProcess::scenario("interrupt", "omp_mask", dir);
  const ChildResult r = child.wait();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "4 threads, 0 unblocked\n");
}

// Aborts are exits that can still run code: they remove the temporaries.
TEST(ExitPaths, TerminateAndFailedChecksLeaveNoTemporary) {
  for (const char* scenario : {"terminate", "check_failed"}) {
    const std::string dir = fresh_dir(scenario);
    ChildProcess child = ChildProcess::scenario("interrupt", scenario, dir);
    const ChildResult r = child.wait();
    EXPECT_EQ(r.exit_code, 128 + SIGABRT) << scenario << ": " << r.err;
    EXPECT_EQ(entries_except_child_files(dir), std::vector<std::string>{}) << scenario;
  }
}

}  // namespace
}  // namespace lmpack
