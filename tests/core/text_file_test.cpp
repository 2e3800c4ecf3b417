// read_text_file (core/text_file.h): a missing file and a folder are errors
// naming the path; the size cap lets a file of exactly max_bytes through and
// refuses one byte more with the sizes in the message, before reading (a
// 64 GiB sparse file is refused at once), and refuses a file whose size the
// file system does not report (/proc) once it reads past the cap; the bytes
// come back exactly as they are (NUL, invalid UTF-8, CR LF).
#include "core/text_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string dir = testing::temp_dir() + "/text-file";
  fs::create_directories(dir);
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// The message of the Error that f throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TextFile, MissingFileIsAnErrorNamingIt) {
  const std::string path = testing::temp_dir() + "/text-file-missing/config.json";
  EXPECT_EQ(error_of([&] { read_text_file(path); }), path + ": no such file or directory");
  EXPECT_EQ(error_of([&] { read_text_file(path, 100, "config"); }), path + ": no such file or directory");
}

TEST(TextFile, FolderIsAnErrorNamingIt) {
  const std::string path = testing::temp_dir() + "/text-file-folder";
  fs::create_directories(path);
  EXPECT_EQ(error_of([&] { read_text_file(path); }), path + ": is a directory, expected a text file");
  EXPECT_EQ(error_of([&] { read_text_file(path, 1 << 20, "config"); }),
            path + ": is a directory, expected a text file");
}

TEST(TextFile, ExactlyAtTheCapIsReadAndOneByteOverIsRefused) {
  const std::string at = write_file("at-cap.json", std::string(100, 'a'));
  EXPECT_EQ(read_text_file(at, 100, "config"), std::string(100, 'a'));
  const std::string over = write_file("over-cap.json", std::string(101, 'a'));
  EXPECT_EQ(error_of([&] { read_text_file(over, 100, "config"); }),
            over + ": is 101 bytes, more than the 100 a config may have");
  EXPECT_EQ(read_text_file(over, 101, "config"), std::string(101, 'a'));
  EXPECT_EQ(read_text_file(over), std::string(101, 'a')) << "no cap without one";
}

TEST(TextFile, EmptyFileUnderACapOfZero) {
  const std::string empty = write_file("empty.txt", "");
  EXPECT_EQ(read_text_file(empty, 0, "text"), "");
  const std::string one = write_file("one.txt", "x");
  EXPECT_EQ(error_of([&] { read_text_file(one, 0, "text"); }), one + ": is 1 bytes, more than the 0 a text may have");
}

TEST(TextFile, HugeFileIsRefusedBeforeReading) {
  const std::string path = write_file("sparse.txt", "");
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const bool sized = ::ftruncate(fd, off_t{1} << 36) == 0;  // 64 GiB, no blocks
  ::close(fd);
  if (!sized) GTEST_SKIP() << "this file system holds no 64 GiB sparse file";
  EXPECT_EQ(error_of([&] { read_text_file(path, 1 << 20, "calibration text"); }),
            path + ": is 68719476736 bytes, more than the 1048576 a calibration text may have");
  fs::remove(path);
}

// /proc files report size 0: the cap holds on the bytes read.
TEST(TextFile, FileWithoutAReportedSizeIsCappedOnItsBytes) {
  const std::string path = "/proc/self/status";
  if (!fs::exists(path) || fs::file_size(path) != 0) GTEST_SKIP() << path << " is not a size-0 /proc file here";
  ASSERT_GT(read_text_file(path).size(), 16u);
  EXPECT_EQ(error_of([&] { read_text_file(path, 16, "status"); }),
            path + ": is more than the 16 bytes a status may have");
}

TEST(TextFile, BytesComeBackExactlyNulInvalidUtf8AndCrLfIncluded) {
  std::string bytes = "{\"a\": 1}\r\n";
  bytes += std::string("\0mid\0", 5);
  bytes += "\xff\xfe\xc3\x28\xe2\x82";  // not UTF-8: bad lead bytes, a bad continuation, a cut sequence
  bytes += "\xc3\xa9t\xc3\xa9\n";       // valid UTF-8
  bytes += std::string(1, '\0');        // a NUL at the very end
  const std::string path = write_file("binary.txt", bytes);
  const std::string got = read_text_file(path);
  EXPECT_EQ(got.size(), bytes.size());
  EXPECT_EQ(got, bytes);
  EXPECT_EQ(read_text_file(path, bytes.size(), "text"), bytes);
}

}  // namespace
}  // namespace lmpack
