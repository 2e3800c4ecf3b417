// Stale temporaries (core/temporaries.h): those of dead processes are
// removed and reported before the same output is written again; those of
// live processes, or still locked by a live writer, are left alone.
#include "core/temporaries.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/notice.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string d = testing::temp_dir() + "/temporaries-" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// The id of a process that has ended (reaped): no process has it now.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

struct CapturedNotices {
  std::vector<std::string> lines;
  NoticeHandler previous;
  CapturedNotices() {
    previous = set_notice_handler([this](const std::string& s) { lines.push_back(s); });
  }
  ~CapturedNotices() { set_notice_handler(previous); }
};

TEST(Temporaries, StaleFileAndFolderOfADeadProcessAreRemovedAndReported) {
  const std::string dir = fresh_dir("dead");
  const pid_t pid = dead_pid();
  const std::string file_tmp = dir + "/out.gguf.tmp." + std::to_string(pid);
  const std::string folder_tmp = dir + "/model.tmp." + std::to_string(pid);
  std::ofstream(file_tmp) << "partial";
  fs::create_directories(folder_tmp);
  std::ofstream(folder_tmp + "/model.safetensors") << "partial";
  CapturedNotices notices;
  EXPECT_EQ(remove_stale_temporaries(dir + "/out.gguf"), 1);
  EXPECT_EQ(remove_stale_temporaries(dir + "/model/"), 1);
  EXPECT_FALSE(fs::exists(file_tmp));
  EXPECT_FALSE(fs::exists(folder_tmp));
  ASSERT_EQ(notices.lines.size(), 2u);
  EXPECT_EQ(notices.lines[0],
            file_tmp + ": removed a stale temporary left by process " + std::to_string(pid) + ", which no longer runs");
  EXPECT_NE(notices.lines[1].find(folder_tmp + ": removed"), std::string::npos);
}

TEST(Temporaries, LiveProcessOrLiveLockIsLeftAlone) {
  const std::string dir = fresh_dir("live");
  const std::string of_live_pid = dir + "/out.gguf.tmp." + std::to_string(::getppid());
  std::ofstream(of_live_pid) << "being written";
  // A dead pid whose file is still locked: a live writer in another pid namespace.
  const std::string locked = dir + "/out.gguf.tmp." + std::to_string(dead_pid());
  std::ofstream(locked) << "being written";
  const int fd = ::open(locked.c_str(), O_RDONLY);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  CapturedNotices notices;
  EXPECT_EQ(remove_stale_temporaries(dir + "/out.gguf"), 0);
  ::close(fd);
  EXPECT_TRUE(fs::exists(of_live_pid));
  EXPECT_TRUE(fs::exists(locked));
  EXPECT_TRUE(notices.lines.empty());
  EXPECT_EQ(remove_stale_temporaries(dir + "/out.gguf"), 1) << "unlocked now, and its pid is dead";
  EXPECT_TRUE(fs::exists(of_live_pid));
}

TEST(Temporaries, OnlyThisOutputsTemporariesAreConsidered) {
  const std::string dir = fresh_dir("names");
  const std::string pid = std::to_string(dead_pid());
  for (const std::string& name : std::vector<std::string>{"out.gguf.tmp." + pid + "x", "out.gguf.tmpx" + pid,
                                                          "other.gguf.tmp." + pid, "out.gguf.tmp.", "out.gguf"})
    std::ofstream(dir + "/" + name) << "keep";
  CapturedNotices notices;
  EXPECT_EQ(remove_stale_temporaries(dir + "/out.gguf"), 0);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 5);
}

TEST(Temporaries, OurOwnPidUnregisteredIsAnEarlierProcessesLeftover) {
  const std::string dir = fresh_dir("own");
  const std::string path = dir + "/out.gguf";
  std::ofstream(temporary_path(path)) << "left by an earlier process that had this pid";
  CapturedNotices notices;
  AtomicFile f(path);  // sweeps, then creates its own temporary under the same name
  f.write("new");
  f.commit();
  EXPECT_EQ(notices.lines.size(), 1u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(Temporaries, AtomicFileSweepsBeforeWriting) {
  const std::string dir = fresh_dir("sweep");
  const std::string stale = dir + "/out.gguf.tmp." + std::to_string(dead_pid());
  std::ofstream(stale) << "partial";
  CapturedNotices notices;
  AtomicFile f(dir + "/out.gguf");
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_EQ(notices.lines.size(), 1u);
}

}  // namespace
}  // namespace lmpack
