// MappedFile and ByteReader (core/mapped_file.h): a missing file, a folder
// and an empty file are handled; every read, span and seek past the end, with
// sizes or offsets that would wrap around, is an lmpack::Error naming the file
// ("<path>: truncated at offset X reading <what> (need N bytes, M left)"),
// never a read outside the mapping; reads in bounds return the file's bytes.
#include "core/mapped_file.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMax64 = std::numeric_limits<uint64_t>::max();

std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string dir = testing::temp_dir() + "/mapped-file";
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

TEST(MappedFile, MissingFileIsAnErrorNamingIt) {
  const std::string path = testing::temp_dir() + "/mapped-file-missing/none.bin";
  EXPECT_EQ(error_of([&] { MappedFile::open(path); }), path + ": cannot open: No such file or directory");
}

TEST(MappedFile, FolderIsAnErrorNamingIt) {
  const std::string path = testing::temp_dir() + "/mapped-file-folder";
  fs::create_directories(path);
  EXPECT_EQ(error_of([&] { MappedFile::open(path); }), path + ": is a directory, expected a file");
}

TEST(MappedFile, EmptyFileMapsToNoBytesAndEveryReadIsAnError) {
  const std::string path = write_file("empty.bin", "");
  const auto f = MappedFile::open(path);
  EXPECT_EQ(f->size(), 0u);
  EXPECT_EQ(f->path(), path);
  ByteReader r(f->data(), f->size(), f->path());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.read_string(0, "nothing"), "");
  r.seek(0);
  EXPECT_EQ(error_of([&] { r.read<uint32_t>("magic"); }),
            path + ": truncated at offset 0 reading magic (need 4 bytes, 0 left)");
  EXPECT_EQ(error_of([&] { r.read_bytes(1, "a byte"); }),
            path + ": truncated at offset 0 reading a byte (need 1 bytes, 0 left)");
  EXPECT_EQ(error_of([&] { r.seek(1); }), path + ": offset 1 is past the end of the file (0 bytes)");
}

TEST(MappedFile, ReadsInBoundsReturnTheFilesBytesLittleEndian) {
  const std::string bytes = std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8) + "GGUF" + std::string("\0\xff", 2);
  const std::string path = write_file("ten.bin", bytes);
  const auto f = MappedFile::open(path);
  ASSERT_EQ(f->size(), bytes.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->data()), f->size()), bytes);
  ByteReader r(f->data(), f->size(), f->path());
  EXPECT_EQ(r.read<uint32_t>("a"), 0x04030201u);
  EXPECT_EQ(r.read<uint16_t>("b"), 0x0605u);
  EXPECT_EQ(r.read_bytes(2, "c"), f->data() + 6) << "a span points into the mapping";
  EXPECT_EQ(r.read_string(4, "magic"), "GGUF");
  EXPECT_EQ(r.read<uint16_t>("tail"), 0xff00u);
  EXPECT_EQ(r.offset(), bytes.size());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(MappedFile, ReadPastTheEndIsAnErrorAndLeavesTheOffset) {
  const std::string path = write_file("short.bin", std::string(10, 'x'));
  const auto f = MappedFile::open(path);
  ByteReader r(f->data(), f->size(), f->path());
  r.read<uint64_t>("header");
  EXPECT_EQ(error_of([&] { r.read<uint32_t>("tensor count"); }),
            path + ": truncated at offset 8 reading tensor count (need 4 bytes, 2 left)");
  EXPECT_EQ(r.offset(), 8u) << "a failed read moves nothing";
  EXPECT_EQ(r.read<uint16_t>("the last two"), 0x7878u);
  EXPECT_EQ(error_of([&] { r.read<uint8_t>("one more"); }),
            path + ": truncated at offset 10 reading one more (need 1 bytes, 0 left)");
}

// Every offset of a small file against lengths at, just past and far past the
// end, including lengths for which offset + length wraps around 2^64 to a
// value inside the file (a naive `offset + n > size` check passes those).
TEST(MappedFile, SpansPastTheEndOrWrappingAroundAreErrorsNamingTheFile) {
  const std::string path = write_file("sweep.bin", std::string(37, 'y'));
  const auto f = MappedFile::open(path);
  const uint64_t size = f->size();
  for (uint64_t pos = 0; pos <= size; ++pos) {
    const uint64_t left = size - pos;
    ByteReader r(f->data(), f->size(), f->path());
    r.seek(pos);
    // In bounds: every length up to what is left.
    EXPECT_EQ(r.read_bytes(left, "rest"), f->data() + pos) << pos;
    r.seek(pos);
    // pos + n wraps to 0, 1 and size/2 for the last three (at pos > 0).
    const std::vector<uint64_t> lengths = {left + 1, left + 1000, uint64_t{1} << 63, kMax64, kMax64 - pos + 1,
                                           kMax64 - pos + 2, kMax64 - pos + 1 + size / 2};
    for (uint64_t n : lengths) {
      if (n <= left) continue;  // pos 0: the wrapped values are plain lengths
      const std::string expected = path + ": truncated at offset " + std::to_string(pos) + " reading span (need " +
                                   std::to_string(n) + " bytes, " + std::to_string(left) + " left)";
      EXPECT_EQ(error_of([&] { r.read_bytes(n, "span"); }), expected) << "offset " << pos << ", n " << n;
      EXPECT_EQ(error_of([&] { r.read_string(n, "span"); }), expected) << "offset " << pos << ", n " << n;
      EXPECT_EQ(error_of([&] { r.need(n, "span"); }), expected) << "offset " << pos << ", n " << n;
      EXPECT_EQ(r.offset(), pos);
    }
  }
}

TEST(MappedFile, SeekPastTheEndIsAnErrorNamingTheFile) {
  const std::string path = write_file("seek.bin", std::string(16, 'z'));
  const auto f = MappedFile::open(path);
  ByteReader r(f->data(), f->size(), f->path());
  r.seek(16);
  EXPECT_EQ(r.remaining(), 0u);
  for (size_t off : {size_t{17}, size_t{1} << 40, std::numeric_limits<size_t>::max()}) {
    EXPECT_EQ(error_of([&] { r.seek(off); }),
              path + ": offset " + std::to_string(off) + " is past the end of the file (16 bytes)");
    EXPECT_EQ(r.offset(), 16u);
  }
  r.seek(3);
  EXPECT_EQ(r.remaining(), 13u);
}

}  // namespace
}  // namespace lmpack
