// GGUF reader against hostile input: one synthetic file per header error,
// each checked for an lmpack::Error with a one-line message naming the
// problem, then truncation and byte-flip sweeps over stories260K.gguf, where
// the reader must either succeed or throw lmpack::Error (never crash, hang,
// or throw anything else such as std::bad_alloc).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>

#include "core/error.h"
#include "gguf_test_writer.h"
#include "io/gguf.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::Bytes;
using testing::gguf_array;
using testing::gguf_pod;
using testing::gguf_str;
using testing::TestGgufWriter;

std::vector<uint8_t> vec(const Bytes& b) { return std::vector<uint8_t>(b.begin(), b.end()); }

void expect_error(const std::vector<uint8_t>& b, const std::string& part) {
  try {
    parse_gguf(b.data(), b.size(), "bad.gguf");
    ADD_FAILURE() << "no error; expected one containing: " << part;
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("bad.gguf: ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

Bytes header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
  return "GGUF" + gguf_pod(version) + gguf_pod(n_tensors) + gguf_pod(n_kv);
}

TEST(GgufErrors, MagicAndVersion) {
  expect_error(vec("GGUX" + gguf_pod<uint32_t>(3) + Bytes(16, '\0')), "not a GGUF file");
  expect_error(vec("GGUF" + gguf_pod<uint32_t>(1) + Bytes(16, '\0')), "version 1 is not supported");
  expect_error(vec("GGUF" + gguf_pod<uint32_t>(4) + Bytes(16, '\0')), "unsupported GGUF version 4");
  expect_error(vec("GG"), "truncated");
  expect_error(vec(""), "truncated");
  expect_error(vec(header(3, 0, 1)), "metadata count 1 cannot fit in the 0 bytes left");
  expect_error(vec(header(3, 0, 1) + gguf_str("key") + gguf_pod<uint32_t>(4)), "truncated at offset 39 reading key (need 4 bytes, 0 left)");
}

TEST(GgufErrors, Metadata) {
  // Unknown value type 13.
  expect_error(vec(header(3, 0, 1) + gguf_str("k") + gguf_pod<uint32_t>(13) + Bytes(8, '\0')),
               "unknown metadata value type 13");
  // Bool that is neither 0 nor 1.
  expect_error(vec(header(3, 0, 1) + gguf_str("k") + gguf_pod<uint32_t>(7) + gguf_pod<uint8_t>(2)),
               "bool value 2");
  // String length far past the end.
  expect_error(vec(header(3, 0, 1) + gguf_str("k") + gguf_pod<uint32_t>(8) + gguf_pod<uint64_t>(1ull << 62) + "ab"),
               "string length 4611686018427387904");
  // Key length past the end.
  expect_error(vec(header(3, 0, 1) + gguf_pod<uint64_t>(~0ull) + Bytes(16, 'x')), "exceeds");
  // Array count that cannot fit: 2^60 uint32 values.
  expect_error(vec(header(3, 0, 1) + gguf_str("k") + gguf_pod<uint32_t>(9) + gguf_array(4, 1ull << 60, Bytes(64, '\0'))),
               "array of 1152921504606846976 uint32");
  // Array count of strings just over what the bytes allow (8 bytes each).
  expect_error(vec(header(3, 0, 1) + gguf_str("k") + gguf_pod<uint32_t>(9) + gguf_array(8, 5, Bytes(32, '\0'))),
               "array of 5 string");
  // More array elements than any real file holds (each fits its bytes).
  expect_error(vec(header(3, 0, 1) + gguf_str("big") + gguf_pod<uint32_t>(9) +
                   gguf_array(0, 5000000, Bytes(5000000, '\0'))),
               "more than 4194304 array elements");
  // A KV count that cannot fit the file.
  expect_error(vec(header(3, 0, 1ull << 50) + Bytes(64, '\0')), "metadata count 1125899906842624");
  // Duplicate key.
  TestGgufWriter w;
  w.kv_u32("a.b", 1);
  w.kv_u32("a.b", 2);
  expect_error(w.vec(), "duplicate metadata key a.b");
  // Nesting deeper than the limit: 20 levels of array-of-array with one element each.
  Bytes deep = gguf_array(4, 1, gguf_pod<uint32_t>(7));
  for (int i = 0; i < 20; ++i) deep = gguf_array(9, 1, deep);
  expect_error(vec(header(3, 0, 1) + gguf_str("deep") + gguf_pod<uint32_t>(9) + deep), "nested deeper");
  // Key with a newline is shown escaped, keeping the message on one line.
  TestGgufWriter w2;
  w2.kv_u32("x\ny", 1);
  w2.kv_u32("x\ny", 1);
  expect_error(w2.vec(), "duplicate metadata key x\\x0ay");
}

TEST(GgufErrors, Alignment) {
  for (uint32_t a : {0u, 48u, 3u}) {
    TestGgufWriter w;
    w.kv_u32("general.alignment", a);
    expect_error(w.vec(), "general.alignment is " + std::to_string(a));
  }
  TestGgufWriter w;
  w.kv_str("general.alignment", "32");
  expect_error(w.vec(), "general.alignment has type string");
}

TEST(GgufErrors, TensorInfos) {
  const Bytes f32x4(16, '\0');
  {
    TestGgufWriter w;
    w.tensor("blk.0.weird", {4}, 99, f32x4);
    expect_error(w.vec(), "tensor 'blk.0.weird' has unknown type id 99");
  }
  {
    TestGgufWriter w;
    w.tensor("a", {4}, 0, f32x4);
    w.tensor("a", {4}, 0, f32x4);
    expect_error(w.vec(), "duplicate tensor name 'a'");
  }
  {
    TestGgufWriter w;
    w.tensor("z", {}, 0, f32x4);
    expect_error(w.vec(), "tensor 'z' has 0 dimensions");
  }
  {
    TestGgufWriter w;
    w.tensor("five", {1, 1, 1, 1, 1}, 0, f32x4);
    expect_error(w.vec(), "tensor 'five' has 5 dimensions");
  }
  {
    TestGgufWriter w;
    w.tensor("q", {33, 1}, 8, Bytes(68, '\0'));
    expect_error(w.vec(), "tensor 'q' of type q8_0 has rows of 33 elements, not a multiple of the block size 32");
  }
  {
    TestGgufWriter w;
    w.tensor("big", {1ull << 40, 1ull << 40}, 0, f32x4);
    expect_error(w.vec(), "tensor 'big' element count overflows");
  }
  {
    TestGgufWriter w;
    w.tensor("neg", {~0ull}, 0, f32x4);
    expect_error(w.vec(), "too large");
  }
  {
    TestGgufWriter w;
    w.tensor("mis", {4}, 0, f32x4, 8);
    expect_error(w.vec(), "tensor 'mis' offset 8 is not a multiple of the alignment 32");
  }
  {
    TestGgufWriter w;
    w.tensor("long", {4}, 0, f32x4);
    w.tensor("past", {1000}, 0, f32x4, 32);
    expect_error(w.vec(), "tensor 'past' (4000 bytes at data offset 32) extends past the end of the file");
  }
  {
    // Offset near 2^64: must not wrap around.
    TestGgufWriter w;
    w.raw_info(gguf_str("wrap") + gguf_pod<uint32_t>(1) + gguf_pod<uint64_t>(4) + gguf_pod<uint32_t>(0) +
               gguf_pod<uint64_t>(~uint64_t{31}));
    Bytes b = w.bytes() + Bytes(64, '\0');
    expect_error(vec(b), "tensor 'wrap'");
  }
  {
    TestGgufWriter w;
    w.tensor("a", {16}, 0, Bytes(64, '\0'));
    w.tensor("b", {8}, 0, Bytes(32, '\0'), 32);  // inside a's bytes
    expect_error(w.vec(), "tensors 'a' and 'b' overlap");
  }
  {
    // Tensor count that cannot fit in the bytes left.
    expect_error(vec(header(3, 1ull << 40, 0) + Bytes(100, '\0')), "tensor count 1099511627776");
  }
  {
    // Tensors present but the data section starts past the end (file cut in the padding).
    TestGgufWriter w;
    w.tensor("t", {0}, 0, "");
    Bytes b = w.bytes();
    b.resize(24 + 8 + 1 + 4 + 8 + 4 + 8);  // just the header: 57 bytes, data would start at 64
    expect_error(vec(b), "data section at offset");
  }
}

TEST(GgufErrors, EmptyTensorsAndTouchingTensorsAreFine) {
  TestGgufWriter w;
  w.tensor("a", {8}, 0, Bytes(32, '\1'));
  w.tensor("e", {0, 3}, 0, "");
  w.tensor("b", {8}, 0, Bytes(32, '\2'));
  std::vector<uint8_t> b = w.vec();
  GgufFile g = parse_gguf(b.data(), b.size(), "ok.gguf");
  ASSERT_EQ(g.tensors.size(), 3u);
  EXPECT_EQ(g.tensors[1].nbytes, 0u);
  EXPECT_EQ(g.tensors[2].data[0], 2);
}

std::vector<uint8_t> stories_bytes() {
  std::ifstream in(testing::shared_path("models/stories260K/stories260K.gguf"), std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Returns "" when the parse succeeded or threw lmpack::Error, else what went wrong.
std::string try_parse(const uint8_t* data, size_t size) {
  try {
    parse_gguf(data, size, "fuzz.gguf");
  } catch (const Error& e) {
    if (std::string(e.what()).find('\n') != std::string::npos) return "multi-line message";
  } catch (const std::exception& e) {
    return std::string("non-lmpack exception: ") + e.what();
  }
  return "";
}

TEST(GgufRobustness, EveryTruncationIsAnError) {
  LMPACK_REQUIRE_SHARED();
  const std::vector<uint8_t> full = stories_bytes();
  ASSERT_EQ(full.size(), 1185376u);
  std::vector<size_t> cuts;
  for (size_t n = 0; n < 4096; ++n) cuts.push_back(n);
  for (size_t k = 0; k < 200; ++k) cuts.push_back(4096 + (full.size() - 4096) * k / 200);
  cuts.push_back(full.size() - 1);
  for (size_t n : cuts) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + n);  // own buffer: reads past n would be caught by ASan
    try {
      parse_gguf(cut.data(), cut.size(), "cut.gguf");
      ADD_FAILURE() << "a file cut to " << n << " bytes parsed";
    } catch (const Error& e) {
      ASSERT_EQ(std::string(e.what()).rfind("cut.gguf: ", 0), 0u) << e.what();
    } catch (const std::exception& e) {
      FAIL() << "cut at " << n << ": " << e.what();
    }
  }
  EXPECT_EQ(try_parse(full.data(), full.size()), "");
  GgufFile g = parse_gguf(full.data(), full.size(), "full.gguf");
  EXPECT_EQ(g.tensors.size(), 48u);
}

TEST(GgufRobustness, RandomByteFlips) {
  LMPACK_REQUIRE_SHARED();
  const std::vector<uint8_t> full = stories_bytes();
  const size_t header_end = parse_gguf(full.data(), full.size(), "full.gguf").data_offset;
  std::mt19937_64 rng(20240601);
  int errors = 0, successes = 0;
  for (int trial = 0; trial < 600; ++trial) {
    std::vector<uint8_t> b = full;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const bool in_header = rng() % 10 < 9;
      const size_t pos = in_header ? rng() % header_end : rng() % b.size();
      const int mode = static_cast<int>(rng() % 3);
      if (mode == 0) b[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
      else if (mode == 1) b[pos] = static_cast<uint8_t>(rng());
      else b[pos] = (rng() % 2) ? 0xFF : 0x00;
    }
    std::string problem = try_parse(b.data(), b.size());
    ASSERT_EQ(problem, "") << "trial " << trial;
    try {
      parse_gguf(b.data(), b.size(), "fuzz.gguf");
      ++successes;
    } catch (const Error&) {
      ++errors;
    }
  }
  // Both outcomes must occur: flips in string bytes or float values parse,
  // flips in lengths and counts do not.
  EXPECT_GT(errors, 50);
  EXPECT_GT(successes, 50);
}

}  // namespace
}  // namespace lmpack
