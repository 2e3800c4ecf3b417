// AtomicFile: the output appears whole at commit or not at all; the old file
// stays until then; commit renames the temporary over the old file (readers of
// the old one keep it whole); a failed write (a full disk: EFBIG past
// RLIMIT_FSIZE, tested in a child process) throws and leaves no temporary; a
// writer killed with SIGKILL mid-write (a child process) leaves the old file
// byte for byte, or no file, and its stale temporary goes with the next write.
#include "core/atomic_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "child_process.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/notice.h"
#include "core/temporaries.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::entries_except_child_files;
using testing::read_file;

std::string fresh_dir(const std::string& name) {
  const std::string d = testing::temp_dir() + "/atomic-file-" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Writes 1 MiB to out.bin over an old one; exits 0 when the write failed
// cleanly (Error naming the file and EFBIG), 1 when it did not fail.
int scenario_write_past_limit(const std::string& dir) {
  install_interrupt_handler();  // ignores SIGXFSZ, as lmpack does
  const std::vector<char> block(1 << 20, 'x');
  try {
    AtomicFile f(dir + "/out.bin");
    f.write(block.data(), block.size());
    f.commit();
  } catch (const Error& e) {
    std::printf("%s\n", e.what());
    return 0;
  }
  return 1;
}

// Byte i of the slow writer's output.
char slow_byte(size_t i) { return static_cast<char>('a' + (i / 4096 + i) % 26); }
constexpr size_t kSlowChunk = 4096, kSlowChunks = 4096;  // 16 MiB, about 8 s: never finished before the kill
constexpr size_t kSlowReadyChunks = 256;                 // 1 MiB written when "ready" appears

// Writes 16 MiB to out.bin through AtomicFile, 4 KiB every 2 ms, marking
// "ready" after 1 MiB; commits at the end (it is meant to be killed first).
int scenario_write_slowly(const std::string& dir) {
  AtomicFile f(dir + "/out.bin");
  std::vector<char> chunk(kSlowChunk);
  for (size_t i = 0; i < kSlowChunks; ++i) {
    for (size_t j = 0; j < kSlowChunk; ++j) chunk[j] = slow_byte(i * kSlowChunk + j);
    f.write(chunk.data(), chunk.size());
    if (i + 1 == kSlowReadyChunks) std::ofstream(dir + "/ready") << "ready";
    ::usleep(2000);
  }
  f.commit();
  return 0;
}

const bool kChild = testing::run_child_scenario_if_asked(
    "atomic_file", {{"write_past_limit", scenario_write_past_limit}, {"write_slowly", scenario_write_slowly}});

// Notices (core/notice.h) kept instead of printed, while alive.
struct CapturedNotices {
  std::vector<std::string> lines;
  NoticeHandler previous;
  CapturedNotices() {
    previous = set_notice_handler([this](const std::string& s) { lines.push_back(s); });
  }
  ~CapturedNotices() { set_notice_handler(previous); }
};

// Starts the slow writer on dir/out.bin, kills it with SIGKILL once its
// temporary holds at least 512 KiB, and checks what the final path held just
// before the kill (`old`, or nothing when old is null). Returns the temporary.
std::string kill_slow_writer_mid_write(const std::string& dir, const std::string* old) {
  const std::string path = dir + "/out.bin";
  ChildProcess child = ChildProcess::scenario("atomic_file", "write_slowly", dir);
  const std::string tmp = path + ".tmp." + std::to_string(child.pid());
  EXPECT_TRUE(child.wait_for(dir + "/ready")) << read_file(dir + "/child.err");
  std::error_code ec;
  const uintmax_t written = fs::file_size(tmp, ec);
  EXPECT_FALSE(ec) << tmp << ": " << ec.message();
  EXPECT_GE(written, 512u * 1024) << "the kill must come mid-write";
  EXPECT_LT(written, kSlowChunk * kSlowChunks) << "the kill must come mid-write";
  if (old != nullptr)
    EXPECT_EQ(read_file(path), *old) << "the old file stays while the new one is written";
  else
    EXPECT_FALSE(fs::exists(path)) << "nothing at the final path while the file is written";
  child.signal(SIGKILL);
  const testing::ChildResult r = child.wait();
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << "the writer must die by the kill, not finish: " << r.out << r.err;
  return tmp;
}

TEST(AtomicFile, AppearsOnlyAtCommit) {
  const std::string dir = fresh_dir("commit");
  const std::string path = dir + "/out.bin";
  {
    AtomicFile f(path);
    f.write("hello");
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::exists(f.temporary()));
    f.commit();
  }
  EXPECT_EQ(read_file(path), "hello");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(AtomicFile, WithoutCommitTheOldFileStaysAndNoTemporary) {
  const std::string dir = fresh_dir("abandon");
  const std::string path = dir + "/out.bin";
  std::ofstream(path) << "old";
  std::string tmp;
  {
    AtomicFile f(path);
    tmp = f.temporary();
    f.write("new, never committed");
  }
  EXPECT_EQ(read_file(path), "old");
  EXPECT_FALSE(fs::exists(tmp));
  {
    AtomicFile f(path);
    f.write("new");
    f.commit();
  }
  EXPECT_EQ(read_file(path), "new");
}

TEST(AtomicFile, CommitRenamesTheTemporaryOverTheOldFile) {
  const std::string dir = fresh_dir("replace");
  const std::string path = dir + "/out.bin";
  const std::string old(100000, 'o');
  std::ofstream(path, std::ios::binary) << old;
  std::ifstream reader(path, std::ios::binary);  // a reader of the old file, open across the commit
  const std::string fresh(300000, 'n');
  struct stat tmp_st{}, path_st{};
  {
    AtomicFile f(path);
    f.write(fresh.data(), fresh.size() / 2);
    f.write(fresh.data() + fresh.size() / 2, fresh.size() - fresh.size() / 2);
    EXPECT_EQ(read_file(path), old) << "the old file stays until commit";
    ASSERT_EQ(::stat(f.temporary().c_str(), &tmp_st), 0);
    f.commit();
    EXPECT_FALSE(fs::exists(f.temporary()));
  }
  ASSERT_EQ(::stat(path.c_str(), &path_st), 0);
  EXPECT_EQ(path_st.st_ino, tmp_st.st_ino) << "commit renames the temporary into place, it does not copy";
  EXPECT_EQ(read_file(path), fresh);
  std::string seen((std::istreambuf_iterator<char>(reader)), std::istreambuf_iterator<char>());
  EXPECT_EQ(seen, old) << "an open reader keeps the old file whole: it was replaced, not overwritten";
  EXPECT_EQ(entries_except_child_files(dir), std::vector<std::string>{"out.bin"});
}

TEST(AtomicFile, DestroyedWithoutCommitLeavesNoFileAndNoTemporary) {
  const std::string dir = fresh_dir("no-commit");
  const std::string path = dir + "/out.bin";
  {
    AtomicFile f(path);
    EXPECT_EQ(f.temporary(), temporary_path(path));
    EXPECT_EQ(f.temporary(), path + ".tmp." + std::to_string(::getpid()));
    const std::vector<char> block(1 << 20, 'x');  // past any stdio buffer: bytes on disk
    f.write(block.data(), block.size());
    EXPECT_GE(fs::file_size(f.temporary()), 512u * 1024);
    EXPECT_FALSE(fs::exists(path));
  }
  EXPECT_EQ(entries_except_child_files(dir), std::vector<std::string>{});
}

TEST(AtomicFile, KilledMidWriteLeavesTheOldFileExactly) {
  const std::string dir = fresh_dir("kill-old");
  const std::string path = dir + "/out.bin";
  std::string old;
  for (int i = 0; i < 70000; ++i) old += static_cast<char>(i * 7 % 251);  // binary, NULs included
  { std::ofstream(path, std::ios::binary) << old; }
  const std::string tmp = kill_slow_writer_mid_write(dir, &old);
  EXPECT_EQ(read_file(path), old);
  EXPECT_TRUE(fs::exists(tmp)) << "SIGKILL cannot clean up: the temporary stays, away from the final path";
  CapturedNotices notices;
  {
    AtomicFile f(path);  // the next writer removes the dead run's temporary
    f.write("next");
    f.commit();
  }
  ASSERT_EQ(notices.lines.size(), 1u);
  EXPECT_EQ(notices.lines[0].rfind(tmp + ": removed a stale temporary", 0), 0u) << notices.lines[0];
  EXPECT_EQ(read_file(path), "next");
  EXPECT_EQ(entries_except_child_files(dir), (std::vector<std::string>{"out.bin", "ready"}));
}

TEST(AtomicFile, KilledMidWriteLeavesNoFile) {
  const std::string dir = fresh_dir("kill-none");
  const std::string path = dir + "/out.bin";
  const std::string tmp = kill_slow_writer_mid_write(dir, nullptr);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(entries_except_child_files(dir), (std::vector<std::string>{fs::path(tmp).filename().string(), "ready"}))
      << "only the dead run's temporary, under its own name";
  CapturedNotices notices;
  EXPECT_EQ(remove_stale_temporaries(path), 1);
  ASSERT_EQ(notices.lines.size(), 1u);
  EXPECT_EQ(notices.lines[0].rfind(tmp + ": removed a stale temporary", 0), 0u) << notices.lines[0];
  EXPECT_EQ(entries_except_child_files(dir), std::vector<std::string>{"ready"});
}

TEST(AtomicFile, MissingFolderIsAnErrorNamingThePath) {
  const std::string path = fresh_dir("missing") + "/no/such/out.bin";
  try {
    AtomicFile f(path);
    FAIL() << "created " << path;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(AtomicFile, WriteFailureOnAFullDiskThrowsAndLeavesTheOldFile) {
  const std::string dir = fresh_dir("efbig");
  std::ofstream(dir + "/out.bin") << "old";
  testing::ChildOptions o;
  o.file_size_limit = 64 * 1024;
  ChildProcess child = ChildProcess::scenario("atomic_file", "write_past_limit", dir, o);
  const testing::ChildResult r = child.wait();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(dir + "/out.bin: write failed: File too large"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(dir + "/out.bin"), "old");
  EXPECT_EQ(entries_except_child_files(dir), std::vector<std::string>{"out.bin"});
}

}  // namespace
}  // namespace lmpack
