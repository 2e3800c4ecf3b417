// AtomicFile: the output appears whole at commit or not at all; the old file
// stays until then; a failed write (a full disk: EFBIG past RLIMIT_FSIZE,
// tested in a child process) throws and leaves no temporary.
#include "core/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "child_process.h"
#include "core/error.h"
#include "core/interrupt.h"
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

const bool kChild =
    testing::run_child_scenario_if_asked("atomic_file", {{"write_past_limit", scenario_write_past_limit}});

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
