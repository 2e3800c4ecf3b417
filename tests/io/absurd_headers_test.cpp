// Every size a reader takes from a file is checked against the file's size and
// a sane limit before anything is allocated for it: crafted headers with
// absurd counts, lengths and nesting for the GGUF, safetensors, llama2.c and
// imatrix readers each give a one-line Error naming the input and the field,
// quickly, and headers that are legal but large cost about their own size in
// RAM (measured with mallinfo2 where the allocator is glibc's).
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf_test_writer.h"
#include "io/gguf.h"
#include "io/imatrix.h"
#include "io/llama2c.h"
#include "io/safetensors.h"

namespace lmpack {
namespace {

using testing::Bytes;
using testing::gguf_array;
using testing::gguf_pod;
using testing::gguf_str;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kGlibcHeap = false;  // ASan's allocator: mallinfo2 does not see it
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kGlibcHeap = false;
#else
constexpr bool kGlibcHeap = true;
#endif
#else
constexpr bool kGlibcHeap = true;
#endif

size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

const uint8_t* u8(const Bytes& b) { return reinterpret_cast<const uint8_t*>(b.data()); }

// The message of the Error that parse() throws; a test failure if none.
template <typename Parse>
std::string error_of(Parse&& parse) {
  try {
    parse();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("absurd: ", 0), 0u) << msg;
    return msg;
  }
  ADD_FAILURE() << "no error";
  return {};
}

Bytes gguf_header(uint64_t n_tensors, uint64_t n_kv) {
  return "GGUF" + gguf_pod<uint32_t>(3) + gguf_pod(n_tensors) + gguf_pod(n_kv);
}

TEST(AbsurdGguf, ByteArraysCostAboutTheirSize) {
  // 4 MB of uint8 array elements: one GgufValue each would be ~400 MB.
  const Bytes file = gguf_header(0, 1) + gguf_str("big") + gguf_pod<uint32_t>(testing::kGArr) +
                     gguf_array(testing::kGU8, 4000000, Bytes(4000000, '\x07'));
  const size_t before = heap_in_use();
  GgufFile g = parse_gguf(u8(file), file.size(), "absurd");
  const size_t used = heap_in_use() - before;
  ASSERT_EQ(g.find("big")->array.size(), 4000000u);
  EXPECT_EQ(g.find("big")->array[3999999].u, 7u);
  if (kGlibcHeap) {
    EXPECT_LT(used, 2 * file.size()) << used << " bytes of heap for a " << file.size() << "-byte file";
  }
}

TEST(AbsurdGguf, StringArraysCostAboutTheirSize) {
  Bytes elements;
  for (int i = 0; i < 400000; ++i) elements += gguf_str(i % 2 ? "" : "ab");
  const Bytes file = gguf_header(0, 1) + gguf_str("s") + gguf_pod<uint32_t>(testing::kGArr) +
                     gguf_array(testing::kGStr, 400000, elements);
  const size_t before = heap_in_use();
  GgufFile g = parse_gguf(u8(file), file.size(), "absurd");
  const size_t used = heap_in_use() - before;
  EXPECT_EQ(g.get_string_array("s").at(399998), "ab");
  if (kGlibcHeap) {
    EXPECT_LT(used, 2 * file.size()) << used << " bytes of heap for a " << file.size() << "-byte file";
  }
}

TEST(AbsurdGguf, CountsBeyondTheLimitsAreErrors) {
  // Counts that fit the bytes but no real file: keys, tensors, nested arrays.
  Bytes kvs;
  for (int i = 0; i <= 65536; ++i) {
    kvs += gguf_str(std::to_string(i));
    kvs += gguf_pod<uint32_t>(testing::kGU8);
    kvs += 'x';
  }
  const Bytes many_keys = gguf_header(0, 65537) + kvs;
  EXPECT_NE(error_of([&] { parse_gguf(u8(many_keys), many_keys.size(), "absurd"); })
                .find("metadata count 65537 is more than the limit of 65536"),
            std::string::npos);

  const Bytes many_tensors = gguf_header((uint64_t{1} << 20) + 1, 0) + Bytes(34 << 20, '\0');
  EXPECT_NE(error_of([&] { parse_gguf(u8(many_tensors), many_tensors.size(), "absurd"); })
                .find("tensor count 1048577 is more than the limit of 1048576"),
            std::string::npos);

  Bytes empties;
  for (int i = 0; i <= 65536; ++i) empties += gguf_array(testing::kGI32, 0, "");
  const Bytes nested = gguf_header(0, 1) + gguf_str("n") + gguf_pod<uint32_t>(testing::kGArr) +
                       gguf_array(testing::kGArr, 65537, empties);
  EXPECT_NE(error_of([&] { parse_gguf(u8(nested), nested.size(), "absurd"); })
                .find("metadata key n: more than 65536 nested arrays"),
            std::string::npos);
}

TEST(AbsurdGguf, HugeLengthsAreErrorsBeforeAllocation) {
  // A string of 2^63 bytes, an array of 2^62 strings, a dimension of 2^62: each
  // is refused from its header alone.
  const Bytes str = gguf_header(0, 1) + gguf_str("k") + gguf_pod<uint32_t>(testing::kGStr) + gguf_pod(uint64_t{1} << 63);
  EXPECT_NE(error_of([&] { parse_gguf(u8(str), str.size(), "absurd"); }).find("string length 9223372036854775808"),
            std::string::npos);
  const Bytes arr = gguf_header(0, 1) + gguf_str("k") + gguf_pod<uint32_t>(testing::kGArr) +
                    gguf_array(testing::kGStr, uint64_t{1} << 62, Bytes(64, '\0'));
  EXPECT_NE(error_of([&] { parse_gguf(u8(arr), arr.size(), "absurd"); }).find("array of 4611686018427387904 string"),
            std::string::npos);
  testing::TestGgufWriter w;
  w.tensor("t", {uint64_t{1} << 62, 4}, 0, Bytes(16, '\0'));
  const Bytes dims = w.bytes();
  EXPECT_NE(error_of([&] { parse_gguf(u8(dims), dims.size(), "absurd"); }).find("tensor 't'"), std::string::npos);
}

Bytes safetensors(const std::string& json, size_t data_bytes) {
  return gguf_pod<uint64_t>(json.size()) + json + Bytes(data_bytes, '\0');
}

TEST(AbsurdSafetensors, OffsetsBeyondUint64AreOutOfRange) {
  // User report: 2^64 used to read "must be a non-negative integer, got number".
  const Bytes file = safetensors(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}})", 4);
  const std::string msg = error_of([&] { parse_safetensors(u8(file), file.size(), "absurd"); });
  EXPECT_NE(msg.find("tensor 'w': data_offsets[1] 18446744073709551616 is out of range: the data section has 4 bytes"),
            std::string::npos)
      << msg;
  const Bytes dim = safetensors(R"({"w":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}})", 4);
  EXPECT_NE(error_of([&] { parse_safetensors(u8(dim), dim.size(), "absurd"); })
                .find("shape dimension 0 99999999999999999999 is too large"),
            std::string::npos);
  const Bytes neg = safetensors(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-18446744073709551617,4]}})", 4);
  EXPECT_NE(error_of([&] { parse_safetensors(u8(neg), neg.size(), "absurd"); }).find("data_offsets[0] is negative"),
            std::string::npos);
}

TEST(AbsurdSafetensors, DeepOrLargeJunkCostsNothing) {
  // 10 million levels of nesting inside a member the reader skips: read as
  // a stream, it costs no memory and no recursion.
  const size_t depth = 10000000;
  const std::string junk = std::string(depth, '[') + std::string(depth, ']');
  const Bytes file = safetensors(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":)" + junk + "}}", 4);
  const size_t before = heap_in_use();
  const SafetensorsFile st = parse_safetensors(u8(file), file.size(), "absurd");
  if (kGlibcHeap) {
    EXPECT_LT(heap_in_use() - before, size_t{16} << 20);
  }
  ASSERT_EQ(st.tensors.size(), 1u);
  // The same nesting where an entry belongs is refused at its first byte.
  const Bytes entry = safetensors(R"({"w":)" + junk + "}", 0);
  EXPECT_NE(error_of([&] { parse_safetensors(u8(entry), entry.size(), "absurd"); })
                .find("tensor 'w': entry must be an object, got array"),
            std::string::npos);
}

TEST(AbsurdSafetensors, StructureErrors) {
  auto error = [](const std::string& json, size_t data) {
    const Bytes file = safetensors(json, data);
    return error_of([&] { parse_safetensors(u8(file), file.size(), "absurd"); });
  };
  EXPECT_NE(error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)
                .find("tensor 'a' appears twice"),
            std::string::npos);
  std::string ones = "1";
  for (int i = 0; i < 64; ++i) ones += ",1";  // 65 dimensions
  EXPECT_NE(error(R"({"w":{"dtype":"F32","shape":[)" + ones + R"(],"data_offsets":[0,4]}})", 4)
                .find("shape has more than 64 dimensions"),
            std::string::npos);
  EXPECT_NE(error(R"({"w\n":{"dtype":"F\u0000","shape":[1],"data_offsets":[0,4]}})", 4).find("tensor 'w\\x0a': unknown dtype 'F\\x00'"),
            std::string::npos);
  EXPECT_NE(error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", 8).find("got more"), std::string::npos);
  EXPECT_NE(error("{\"w\":\xff}", 0).find("not valid JSON (at byte"), std::string::npos);
}

TEST(AbsurdLlama2c, HeaderClaimingTerabytesIsASizeError) {
  // dim 65536, hidden 2^18, 1024 layers: about 2^47 bytes of weights claimed
  // by a 28-byte file; nothing is allocated for them.
  const int32_t header[7] = {65536, 1 << 18, 1024, 64, 64, 1 << 24, 1 << 24};
  const Bytes file(reinterpret_cast<const char*>(header), sizeof header);
  EXPECT_NE(error_of([&] { parse_llama2c(u8(file), file.size(), "absurd"); }).find("size is 28 bytes, expected "),
            std::string::npos);
}

TEST(AbsurdImatrix, LegacyCountsBeyondTheFile) {
  const Bytes entries = gguf_pod<int32_t>(0x7fffffff) + Bytes(64, '\0');
  EXPECT_NE(error_of([&] { parse_imatrix(u8(entries), entries.size(), "absurd"); })
                .find("entry count 2147483647 cannot fit"),
            std::string::npos);
  // One entry claiming 2^31 - 1 values (8 GB) in a 40-byte file.
  const Bytes values = gguf_pod<int32_t>(1) + gguf_pod<int32_t>(1) + "w" + gguf_pod<int32_t>(1) +
                       gguf_pod<int32_t>(0x7fffffff) + Bytes(16, '\0');
  EXPECT_NE(error_of([&] { parse_imatrix(u8(values), values.size(), "absurd"); }).find("truncated"), std::string::npos);
}

TEST(AbsurdImatrix, ImportanceThatOverflowsIsAnError) {
  // in_sum2 1e30 over a count of 1e-30: the mean is not a float.
  testing::TestGgufWriter w;
  w.kv_str("general.type", "imatrix");
  w.tensor("w.in_sum2", {1, 1}, 0, gguf_pod<float>(1e30f));
  w.tensor("w.counts", {1, 1}, 0, gguf_pod<float>(1e-30f));
  const Bytes file = w.bytes();
  EXPECT_NE(error_of([&] { parse_imatrix(u8(file), file.size(), "absurd"); }).find("imatrix entry w value 0"),
            std::string::npos);
}

}  // namespace
}  // namespace lmpack
