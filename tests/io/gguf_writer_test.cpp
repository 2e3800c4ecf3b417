// GgufWriter: files read back by read_gguf with identical metadata (every
// value type, nested arrays) and byte-identical tensors at alignments 32 and
// 64; byte layout checked against the spec on a small file; misuse errors;
// nothing left on disk when a file is not finished.
#include "io/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "formats/format_sizes.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string temp(const std::string& name) { return testing::temp_dir() + "/" + name; }

GgufValue val(GgufType t) {
  GgufValue v;
  v.type = t;
  return v;
}
GgufValue uval(GgufType t, uint64_t u) {
  GgufValue v = val(t);
  v.u = u;
  v.i = static_cast<int64_t>(u);
  return v;
}
GgufValue ival(GgufType t, int64_t i) {
  GgufValue v = val(t);
  v.i = i;
  if (i >= 0) v.u = static_cast<uint64_t>(i);
  return v;
}
GgufValue fval(GgufType t, double f) {
  GgufValue v = val(t);
  v.f = f;
  return v;
}
GgufValue arr(GgufType elem, std::vector<GgufValue> e) {
  GgufValue v = val(GgufType::kArray);
  v.array = GgufArray(elem);
  for (const GgufValue& x : e) v.array.push_back(x);
  return v;
}

void expect_same(const GgufValue& a, const GgufValue& b, const std::string& key) {
  ASSERT_EQ(a.type, b.type) << key;
  switch (a.type) {
    case GgufType::kUint8: case GgufType::kUint16: case GgufType::kUint32: case GgufType::kUint64: case GgufType::kBool:
      EXPECT_EQ(a.u, b.u) << key;
      break;
    case GgufType::kInt8: case GgufType::kInt16: case GgufType::kInt32: case GgufType::kInt64:
      EXPECT_EQ(a.i, b.i) << key;
      break;
    case GgufType::kFloat32: EXPECT_EQ(static_cast<float>(a.f), static_cast<float>(b.f)) << key; break;
    case GgufType::kFloat64: EXPECT_EQ(a.f, b.f) << key; break;
    case GgufType::kString: EXPECT_EQ(a.str, b.str) << key; break;
    case GgufType::kArray:
      ASSERT_EQ(a.array.type(), b.array.type()) << key;
      ASSERT_EQ(a.array.size(), b.array.size()) << key;
      for (size_t i = 0; i < a.array.size(); ++i) expect_same(a.array[i], b.array[i], key + "[" + std::to_string(i) + "]");
      break;
  }
}

// One value of every GGUF type, extremes included, plus arrays and nested arrays.
std::vector<std::pair<std::string, GgufValue>> every_type() {
  std::vector<std::pair<std::string, GgufValue>> kv;
  kv.emplace_back("t.u8", uval(GgufType::kUint8, 255));
  kv.emplace_back("t.i8", ival(GgufType::kInt8, -128));
  kv.emplace_back("t.u16", uval(GgufType::kUint16, 65535));
  kv.emplace_back("t.i16", ival(GgufType::kInt16, -32768));
  kv.emplace_back("t.u32", uval(GgufType::kUint32, 0xFFFFFFFFu));
  kv.emplace_back("t.i32", ival(GgufType::kInt32, -2147483647 - 1));
  kv.emplace_back("t.u64", uval(GgufType::kUint64, 0x123456789ABCDEF0ull));
  kv.emplace_back("t.i64", ival(GgufType::kInt64, -1234567890123456789ll));
  kv.emplace_back("t.f32", fval(GgufType::kFloat32, 1e-5f));
  kv.emplace_back("t.f64", fval(GgufType::kFloat64, 3.141592653589793));
  kv.emplace_back("t.bool", uval(GgufType::kBool, 1));
  GgufValue s = val(GgufType::kString);
  s.str = std::string("h\xC3\xA9llo\0world", 12);  // UTF-8 and an embedded NUL
  kv.emplace_back("t.str", s);
  GgufValue empty = val(GgufType::kString);
  kv.emplace_back("t.empty_str", empty);
  kv.emplace_back("t.arr_u8", arr(GgufType::kUint8, {uval(GgufType::kUint8, 0), uval(GgufType::kUint8, 7)}));
  kv.emplace_back("t.arr_i64", arr(GgufType::kInt64, {ival(GgufType::kInt64, -1), ival(GgufType::kInt64, 1ll << 40)}));
  kv.emplace_back("t.arr_f64", arr(GgufType::kFloat64, {fval(GgufType::kFloat64, -0.5)}));
  kv.emplace_back("t.arr_bool", arr(GgufType::kBool, {uval(GgufType::kBool, 0), uval(GgufType::kBool, 1)}));
  kv.emplace_back("t.arr_empty", arr(GgufType::kString, {}));
  kv.emplace_back("t.nested", arr(GgufType::kArray, {arr(GgufType::kInt16, {ival(GgufType::kInt16, -3)}),
                                                     arr(GgufType::kInt16, {})}));
  return kv;
}

struct Fixture {
  std::vector<float> f32;
  std::vector<uint16_t> f16;
  std::vector<uint8_t> q8;
};

Fixture make_fixture() {
  Fixture f;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  f.f32.resize(3 * 5);
  for (float& x : f.f32) x = dist(rng);
  f.f16.resize(4 * 6);
  for (uint16_t& h : f.f16) h = f32_to_fp16(dist(rng));
  // Q8_0 blocks by hand (fp16 scale, 32 int8): the writer only moves bytes.
  f.q8.resize(dtype_bytes(DType::Q8_0, 2 * 64));
  for (size_t b = 0; b < 4; ++b) {
    const uint16_t d = f32_to_fp16(0.01f * static_cast<float>(b + 1));
    std::memcpy(f.q8.data() + 34 * b, &d, 2);
    for (size_t i = 0; i < 32; ++i) f.q8[34 * b + 2 + i] = static_cast<uint8_t>(rng());
  }
  return f;
}

void write_fixture(const std::string& path, uint64_t alignment, const Fixture& f) {
  GgufWriter w(path, alignment);
  for (auto& [k, v] : every_type()) w.add(k, v);
  w.add_u32("h.u32", 42);
  w.add_i32("h.i32", -42);
  w.add_f32("h.f32", 0.25f);
  w.add_bool("h.bool", false);
  w.add_string("h.str", "llama");
  w.add_string_array("h.strs", {"a", "", "\xE2\x96\x81the"});
  w.add_f32_array("h.f32s", {1.5f, -2.0f});
  w.add_i32_array("h.i32s", {1, -6, 3});
  w.add_tensor("a.f32", DType::F32, {3, 5});       // 60 bytes: padding follows
  w.add_tensor("b.f16", DType::F16, {2, 2, 6});    // 3-D
  w.add_tensor("c.q8_0", DType::Q8_0, {2, 64});
  w.add_tensor("d.vec", DType::F32, {5});
  w.begin_data();
  w.write_tensor("a.f32", f.f32.data(), f.f32.size() * 4);
  // In pieces: two appends then end_tensor.
  w.append_tensor_bytes(f.f16.data(), 10);
  w.append_tensor_bytes(reinterpret_cast<const uint8_t*>(f.f16.data()) + 10, f.f16.size() * 2 - 10);
  w.end_tensor();
  w.write_tensor("c.q8_0", f.q8.data(), f.q8.size());
  w.write_tensor("d.vec", f.f32.data(), 20);
  w.finish();
}

class GgufWriterAlignment : public ::testing::TestWithParam<uint64_t> {};

TEST_P(GgufWriterAlignment, ReadsBackIdentically) {
  const uint64_t alignment = GetParam();
  const std::string path = temp("writer_" + std::to_string(alignment) + ".gguf");
  const Fixture f = make_fixture();
  write_fixture(path, alignment, f);

  GgufFile g = read_gguf(path);
  EXPECT_EQ(g.version, 3u);
  EXPECT_EQ(g.alignment, alignment);
  EXPECT_EQ(g.data_offset % alignment, 0u);
  EXPECT_EQ(g.file->size() % alignment, 0u);  // the last tensor is padded too
  auto expected = every_type();
  for (const auto& [k, v] : expected) {
    const GgufValue* got = g.find(k);
    ASSERT_NE(got, nullptr) << k;
    expect_same(v, *got, k);
  }
  EXPECT_EQ(g.get_int("h.u32"), 42);
  EXPECT_EQ(g.find("h.u32")->type, GgufType::kUint32);
  EXPECT_EQ(g.get_int("h.i32"), -42);
  EXPECT_EQ(g.find("h.i32")->type, GgufType::kInt32);
  EXPECT_EQ(g.get_float("h.f32"), 0.25);
  EXPECT_FALSE(g.get_bool("h.bool"));
  EXPECT_EQ(g.get_string("h.str"), "llama");
  EXPECT_EQ(g.get_string_array("h.strs"), (std::vector<std::string>{"a", "", "\xE2\x96\x81the"}));
  EXPECT_EQ(g.get_float_array("h.f32s"), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(g.find("h.i32s")->array.type(), GgufType::kInt32);
  EXPECT_EQ(g.get_int_array("h.i32s"), (std::vector<int64_t>{1, -6, 3}));
  // Metadata in the order added; general.alignment only when not 32, last.
  const size_t n_expected = expected.size() + 8 + (alignment != 32 ? 1 : 0);
  ASSERT_EQ(g.metadata.size(), n_expected);
  EXPECT_EQ(g.metadata.front().first, "t.u8");
  if (alignment != 32) {
    EXPECT_EQ(g.metadata.back().first, "general.alignment");
    EXPECT_EQ(g.metadata.back().second.type, GgufType::kUint32);
  } else {
    EXPECT_EQ(g.find("general.alignment"), nullptr);
  }

  ASSERT_EQ(g.tensors.size(), 4u);
  const TensorInfo& a = g.tensors[0];
  EXPECT_EQ(a.name, "a.f32");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3, 5}));
  ASSERT_EQ(a.nbytes, 60u);
  EXPECT_EQ(std::memcmp(a.data, f.f32.data(), 60), 0);
  const TensorInfo& b = g.tensors[1];
  EXPECT_EQ(b.dtype, DType::F16);
  EXPECT_EQ(b.shape, (std::vector<int64_t>{2, 2, 6}));
  ASSERT_EQ(b.nbytes, f.f16.size() * 2);
  EXPECT_EQ(std::memcmp(b.data, f.f16.data(), b.nbytes), 0);
  const TensorInfo& c = g.tensors[2];
  EXPECT_EQ(c.dtype, DType::Q8_0);
  EXPECT_EQ(c.shape, (std::vector<int64_t>{2, 64}));
  ASSERT_EQ(c.nbytes, f.q8.size());
  EXPECT_EQ(std::memcmp(c.data, f.q8.data(), c.nbytes), 0);
  EXPECT_EQ(g.tensors[3].shape, (std::vector<int64_t>{5}));
  for (const TensorInfo& t : g.tensors) EXPECT_EQ((t.data - g.file->data()) % alignment, 0u) << t.name;
  // Padding between tensors is zeros.
  const uint8_t* after_a = a.data + a.nbytes;
  for (const uint8_t* p = after_a; p < b.data; ++p) EXPECT_EQ(*p, 0);
}

INSTANTIATE_TEST_SUITE_P(Alignments, GgufWriterAlignment, ::testing::Values(32, 64));

TEST(GgufWriter, ByteLayoutFollowsTheSpec) {
  // A one-key, one-tensor file checked byte by byte.
  const std::string path = temp("writer_bytes.gguf");
  {
    GgufWriter w(path);
    w.add_u32("k", 9);
    w.add_tensor("t", DType::F32, {2, 3});  // ne = {3, 2}
    const float v[6] = {1, 2, 3, 4, 5, 6};
    w.write_tensor("t", v, sizeof v);
    w.finish();
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto u32 = [&](size_t at) { uint32_t x; std::memcpy(&x, bytes.data() + at, 4); return x; };
  auto u64 = [&](size_t at) { uint64_t x; std::memcpy(&x, bytes.data() + at, 8); return x; };
  ASSERT_GE(bytes.size(), 96u);
  EXPECT_EQ(bytes.substr(0, 4), "GGUF");
  EXPECT_EQ(u32(4), 3u);       // version
  EXPECT_EQ(u64(8), 1u);       // tensors
  EXPECT_EQ(u64(16), 1u);      // kv
  EXPECT_EQ(u64(24), 1u);      // key length
  EXPECT_EQ(bytes[32], 'k');
  EXPECT_EQ(u32(33), 4u);      // uint32
  EXPECT_EQ(u32(37), 9u);
  EXPECT_EQ(u64(41), 1u);      // name length
  EXPECT_EQ(bytes[49], 't');
  EXPECT_EQ(u32(50), 2u);      // n_dims
  EXPECT_EQ(u64(54), 3u);      // ne[0] = innermost
  EXPECT_EQ(u64(62), 2u);      // ne[1]
  EXPECT_EQ(u32(70), 0u);      // F32
  EXPECT_EQ(u64(74), 0u);      // offset
  // Header is 82 bytes; data at 96 (next multiple of 32); 24 data bytes + 8 padding.
  EXPECT_EQ(bytes.size(), 128u);
  float first;
  std::memcpy(&first, bytes.data() + 96, 4);
  EXPECT_EQ(first, 1.0f);
}

bool no_leftovers(const std::string& path) {
  if (fs::exists(path)) return false;
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    if (e.path().filename().string().rfind(fs::path(path).filename().string() + ".tmp", 0) == 0) return false;
  return true;
}

TEST(GgufWriter, WrongByteCountIsAnErrorAndLeavesNoFile) {
  const std::string path = temp("writer_wrong_bytes.gguf");
  {
    GgufWriter w(path);
    w.add_tensor("x", DType::F16, {2, 4});
    w.begin_data();
    std::vector<uint8_t> bytes(15);
    try {
      w.write_tensor("x", bytes.data(), bytes.size());
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("needs 16 bytes, got 15"), std::string::npos) << e.what();
    }
    std::vector<uint8_t> more(17);
    EXPECT_THROW(w.append_tensor_bytes(more.data(), more.size()), Error);  // overruns
    w.append_tensor_bytes(more.data(), 8);
    EXPECT_THROW(w.end_tensor(), Error);  // 8 of 16
  }
  EXPECT_TRUE(no_leftovers(path));
}

TEST(GgufWriter, FinishWithoutAllTensorsLeavesNoFile) {
  const std::string path = temp("writer_unfinished.gguf");
  {
    GgufWriter w(path);
    w.add_string("general.architecture", "llama");
    w.add_tensor("one", DType::F32, {4});
    w.add_tensor("two", DType::F32, {4});
    const float v[4] = {};
    w.write_tensor("one", v, sizeof v);
    try {
      w.finish();
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("two"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(no_leftovers(path));
  // A writer that is dropped before finish() leaves nothing either.
  { GgufWriter w(path); w.add_u32("k", 1); }
  EXPECT_TRUE(no_leftovers(path));
}

TEST(GgufWriter, MisuseIsAnError) {
  const std::string path = temp("writer_misuse.gguf");
  EXPECT_THROW(GgufWriter(path, 24), Error);  // not a power of two
  EXPECT_THROW(GgufWriter(path, 4), Error);   // below 8
  GgufWriter w(path);
  w.add_u32("k", 1);
  EXPECT_THROW(w.add_u32("k", 2), Error);                                // duplicate key
  EXPECT_THROW(w.add_u32("general.alignment", 64), Error);               // disagrees with the writer
  w.add_u32("general.alignment", 32);                                    // agrees: kept
  EXPECT_THROW(arr(GgufType::kUint32, {ival(GgufType::kInt32, 1)}), Error);  // element of the wrong type
  EXPECT_THROW(w.add_tensor("q", DType::Q4_0, {2, 48}), Error);          // 48 not a multiple of 32
  EXPECT_THROW(w.add_tensor("z", DType::F32, {0, 4}), Error);            // empty dimension
  EXPECT_THROW(w.add_tensor("five", DType::F32, {1, 1, 1, 1, 1}), Error);
  EXPECT_THROW(w.add_tensor(std::string(64, 'n'), DType::F32, {1}), Error);  // longer than ggml's names
  w.add_tensor("a", DType::F32, {1});
  w.add_tensor("b", DType::F32, {1});
  EXPECT_THROW(w.add_tensor("a", DType::F32, {1}), Error);               // duplicate tensor
  w.begin_data();
  EXPECT_THROW(w.add_u32("late", 1), Error);
  EXPECT_THROW(w.add_tensor("late", DType::F32, {1}), Error);
  const float one = 1.0f;
  EXPECT_THROW(w.write_tensor("b", &one, 4), Error);  // out of declaration order
  w.write_tensor("a", &one, 4);
  w.write_tensor("b", &one, 4);
  EXPECT_THROW(w.write_tensor("c", &one, 4), Error);  // nothing left to write
  w.finish();
  GgufFile g = read_gguf(path);
  EXPECT_EQ(g.get_int("general.alignment"), 32);
  EXPECT_EQ(g.tensors.size(), 2u);
}

TEST(GgufWriter, MetadataOnlyFileIsValid) {
  // A vocabulary-only file, like llama.cpp's ggml-vocab-*.gguf: no tensors.
  const std::string path = temp("writer_vocab_only.gguf");
  {
    GgufWriter w(path);
    w.add_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>"});
    w.finish();
  }
  GgufFile g = read_gguf(path);
  EXPECT_TRUE(g.tensors.empty());
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 2u);
}

TEST(GgufWriter, RewritesARealFileByteForByte) {
  // Copying every key and tensor of llama.cpp's own stories260K.gguf through
  // the writer reproduces the file exactly: same layout decisions as ggml.
  LMPACK_REQUIRE_SHARED();
  const std::string src = testing::shared_path("models/stories260K/stories260K.gguf");
  GgufFile g = read_gguf(src);
  const std::string path = temp("writer_copy.gguf");
  {
    GgufWriter w(path, g.alignment);
    for (const auto& [k, v] : g.metadata) w.add(k, v);
    for (const TensorInfo& t : g.tensors) w.add_tensor(t.name, t.dtype, t.shape);
    for (const TensorInfo& t : g.tensors) w.write_tensor(t.name, t.data, t.nbytes);
    w.finish();
  }
  GgufFile c = read_gguf(path);
  ASSERT_EQ(c.file->size(), g.file->size());
  EXPECT_EQ(std::memcmp(c.file->data(), g.file->data(), g.file->size()), 0);
}

}  // namespace
}  // namespace lmpack

namespace lmpack {
namespace {

// A writer that only declares creates no file and tells the header's size:
// the size targets of `quantize --target-size` count it.
TEST(GgufWriter, HeaderBytesBeforeAnyFileIsCreated) {
  for (uint64_t alignment : {uint64_t{32}, uint64_t{64}}) {
    const std::string path = temp("header_bytes.gguf");
    fs::remove(path);
    GgufWriter w(path, alignment);
    w.add_string("general.name", "header test");
    w.add_u32("some.count", 7);
    w.add_tensor("a.weight", DType::Q4_0, {3, 64});
    w.add_tensor("b.weight", DType::F32, {5});
    const uint64_t header = w.header_bytes();
    EXPECT_EQ(header % alignment, 0u);
    EXPECT_EQ(w.data_bytes(), 128u + (alignment == 32 ? 32u : 64u));  // 3 rows of 2 Q4_0 blocks (108 B), 20 B: padded
    for (const auto& entry : fs::directory_iterator(testing::temp_dir()))
      EXPECT_EQ(entry.path().filename().string().rfind("header_bytes.gguf", 0), std::string::npos)
          << "a file before begin_data: " << entry.path();
    std::vector<uint8_t> a(dtype_bytes(DType::Q4_0, 3 * 64), 0), b(20, 0);
    w.write_tensor("a.weight", a.data(), a.size());
    w.write_tensor("b.weight", b.data(), b.size());
    w.finish();
    EXPECT_EQ(fs::file_size(path), header + w.data_bytes()) << "alignment " << alignment;
  }
}

}  // namespace
}  // namespace lmpack
