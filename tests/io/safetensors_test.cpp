#include "io/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <vector>

#include "core/error.h"
#include "formats/format_sizes.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string temp_file(const std::string& name) { return testing::temp_dir() + "/st_" + name; }

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_all(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A file with the given JSON header (unpadded) followed by `data_bytes` zero bytes.
std::string write_raw(const std::string& name, const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> bytes(8);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(n >> (8 * i));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + data_bytes, 0);
  const std::string path = temp_file(name);
  write_all(path, bytes);
  return path;
}

std::string error_of(const std::string& path) {
  try {
    read_safetensors(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Every tensor's bytes lie inside the mapping.
void expect_in_bounds(const SafetensorsFile& st) {
  const uint8_t* begin = st.file->data();
  const uint8_t* end = begin + st.file->size();
  for (const TensorInfo& t : st.tensors) {
    ASSERT_GE(t.data, begin + st.data_offset);
    ASSERT_LE(t.data + t.nbytes, end);
  }
}

TEST(Safetensors, ReadsStories260KHf) {
  LMPACK_REQUIRE_SHARED();
  SafetensorsFile st = read_safetensors(testing::shared_path("models/stories260K-hf/model.safetensors"));
  EXPECT_EQ(st.tensors.size(), 47u);
  EXPECT_EQ(st.header_size, 4856u);
  EXPECT_EQ(st.data_offset % 8, 0u);
  EXPECT_EQ(st.metadata.at("format"), "pt");
  const TensorInfo* embd = st.find("model.embed_tokens.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->dtype, DType::F32);
  EXPECT_EQ(embd->shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(embd->data, st.file->data() + st.data_offset);
  const TensorInfo* down = st.find("model.layers.0.mlp.down_proj.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->shape, (std::vector<int64_t>{64, 172}));
  EXPECT_EQ(down->nbytes, 64u * 172 * 4);
  int64_t params = 0;
  for (const TensorInfo& t : st.tensors) params += t.n_elements();
  EXPECT_EQ(params, 260032);
  expect_in_bounds(st);
  // The last tensor ends exactly at the end of the file.
  EXPECT_EQ(st.tensors.back().data + st.tensors.back().nbytes, st.file->data() + st.file->size());
}

TEST(Safetensors, RoundTripsEveryWritableDtypeAndMetadata) {
  std::vector<SafetensorsEntry> entries = {
      {"a.f32", DType::F32, {3, 5}}, {"b.f16", DType::F16, {7}},  {"c.bf16", DType::BF16, {2, 3, 1}},
      {"d.empty", DType::F32, {0, 4}}, {"e.i64", DType::I64, {3}}, {"f.scalar", DType::F32, {}},
  };
  std::vector<std::vector<uint8_t>> payloads;
  std::mt19937 rng(7);
  for (const auto& e : entries) {
    int64_t n = 1;
    for (int64_t d : e.shape) n *= d;
    std::vector<uint8_t> p(dtype_bytes(e.dtype, n));
    for (auto& b : p) b = static_cast<uint8_t>(rng());
    payloads.push_back(p);
  }
  const std::string path = temp_file("roundtrip.safetensors");
  std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "lmpack \"test\""}};
  write_safetensors(
      path, entries,
      [&](size_t i, SafetensorsSink& sink) {
        // Odd-sized pieces: the writer must not care how bytes arrive.
        const auto& p = payloads[i];
        for (size_t off = 0; off < p.size(); off += 3) sink.write(p.data() + off, std::min<size_t>(3, p.size() - off));
      },
      meta);

  SafetensorsFile st = read_safetensors(path);
  EXPECT_EQ(st.data_offset % 8, 0u);
  EXPECT_EQ(st.metadata, meta);
  ASSERT_EQ(st.tensors.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const TensorInfo* t = st.find(entries[i].name);
    ASSERT_NE(t, nullptr) << entries[i].name;
    EXPECT_EQ(t->dtype, entries[i].dtype);
    EXPECT_EQ(t->shape, entries[i].shape);
    ASSERT_EQ(t->nbytes, payloads[i].size());
    if (t->nbytes > 0) {
      EXPECT_EQ(std::memcmp(t->data, payloads[i].data(), t->nbytes), 0) << entries[i].name;
    }
  }
  // Data laid out in the given order, back to back.
  EXPECT_EQ(st.file->size(), st.data_offset + 15 * 4 + 7 * 2 + 6 * 2 + 0 + 3 * 8 + 4);
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(Safetensors, WriterRefusesBadInputAndLeavesNothing) {
  const std::string path = temp_file("bad_writer.safetensors");
  std::vector<SafetensorsEntry> entries = {{"x", DType::F32, {4}}, {"y", DType::F32, {4}}};
  // Producer short by one byte on the second tensor.
  EXPECT_THROW(write_safetensors(path, entries,
                                 [&](size_t i, SafetensorsSink& sink) {
                                   std::vector<uint8_t> b(i == 0 ? 16 : 15);
                                   sink.write(b.data(), b.size());
                                 }),
               Error);
  EXPECT_FALSE(fs::exists(path));
  // Producer writing too much.
  EXPECT_THROW(write_safetensors(path, entries,
                                 [&](size_t, SafetensorsSink& sink) {
                                   std::vector<uint8_t> b(17);
                                   sink.write(b.data(), b.size());
                                 }),
               Error);
  EXPECT_FALSE(fs::exists(path));
  auto zeros = [](size_t, SafetensorsSink&) {};
  EXPECT_THROW(write_safetensors(path, {{"q", DType::Q4_0, {32}}}, zeros), Error);
  EXPECT_THROW(write_safetensors(path, {{"x", DType::F32, {0}}, {"x", DType::F32, {0}}}, zeros), Error);
  EXPECT_THROW(write_safetensors(path, {{"__metadata__", DType::F32, {0}}}, zeros), Error);
  EXPECT_FALSE(fs::exists(path));
  for (const auto& entry : fs::directory_iterator(testing::temp_dir()))
    EXPECT_EQ(entry.path().filename().string().find("bad_writer.safetensors.tmp"), std::string::npos);
}

TEST(Safetensors, TruncationAtAnyOffsetIsAnError) {
  LMPACK_REQUIRE_SHARED();
  const std::vector<uint8_t> full = read_all(testing::shared_path("models/stories260K-hf/model.safetensors"));
  ASSERT_EQ(full.size(), 1044992u);
  std::vector<size_t> cuts;
  const size_t header_end = 8 + 4856;
  for (size_t c = 0; c < 64; ++c) cuts.push_back(c);                           // the length and the first bytes
  for (size_t c = 64; c < header_end - 32; c += 7) cuts.push_back(c);          // inside the JSON
  for (size_t c = header_end - 32; c < header_end + 32; ++c) cuts.push_back(c);  // around the data start
  for (size_t c = header_end + 32; c < full.size(); c += 8191) cuts.push_back(c);  // inside the data
  cuts.push_back(full.size() - 1);
  const std::string path = temp_file("truncated.safetensors");
  write_all(path, full);
  std::sort(cuts.rbegin(), cuts.rend());  // shrink one file step by step
  int errors = 0;
  for (size_t c : cuts) {
    fs::resize_file(path, c);
    try {
      read_safetensors(path);
      ADD_FAILURE() << "truncation at " << c << " was accepted";
    } catch (const Error& e) {
      ++errors;
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(errors, static_cast<int>(cuts.size()));
}

TEST(Safetensors, CorruptHeaderBytesNeverCrash) {
  LMPACK_REQUIRE_SHARED();
  const std::vector<uint8_t> full = read_all(testing::shared_path("models/stories260K-hf/model.safetensors"));
  const size_t header_end = 8 + 4856;
  std::mt19937 rng(20261128);
  const std::string path = temp_file("corrupt.safetensors");
  int rejected = 0, accepted = 0;
  write_all(path, full);
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  auto put_header = [&](const uint8_t* bytes) {  // rewrite only the header, then flush
    file.seekp(0);
    file.write(reinterpret_cast<const char*>(bytes), static_cast<std::streamsize>(header_end));
    file.flush();
  };
  for (int trial = 0; trial < 600; ++trial) {
    std::vector<uint8_t> bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(header_end));
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      size_t pos = rng() % header_end;
      bytes[pos] = static_cast<uint8_t>(trial % 3 == 0 ? "0123456789[]{},:\"-"[rng() % 18] : rng());
    }
    put_header(bytes.data());
    try {
      SafetensorsFile st = read_safetensors(path);
      expect_in_bounds(st);
      ++accepted;
    } catch (const Error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 300);  // most corruptions are caught
  EXPECT_EQ(rejected + accepted, 600);
}

TEST(Safetensors, BadHeaderLength) {
  LMPACK_REQUIRE_SHARED();
  const std::vector<uint8_t> full = read_all(testing::shared_path("models/stories260K-hf/model.safetensors"));
  const std::string path = temp_file("badlen.safetensors");
  auto with_length = [&](uint64_t n) {
    std::vector<uint8_t> b = full;
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(n >> (8 * i));
    write_all(path, b);
    return error_of(path);
  };
  EXPECT_NE(with_length(~uint64_t{0}).find("exceeds the limit"), std::string::npos);
  EXPECT_NE(with_length(full.size()).find("runs past the end"), std::string::npos);
  EXPECT_NE(with_length(full.size() - 8 + 1).find("runs past the end"), std::string::npos);
  EXPECT_NE(with_length(0).find("JSON object"), std::string::npos);
  EXPECT_NE(with_length(4850).find("not valid JSON"), std::string::npos);  // cut before the closing brace
  write_all(path, {1, 2, 3});
  EXPECT_NE(error_of(path).find("8-byte header length"), std::string::npos);
  write_all(path, {});
  EXPECT_NE(error_of(path).find("8-byte header length"), std::string::npos);
}

TEST(Safetensors, InconsistentEntriesAreErrors) {
  // Overlap: b starts inside a.
  std::string e = error_of(write_raw("overlap", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                                R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                                     24));
  EXPECT_NE(e.find("overlap"), std::string::npos) << e;
  EXPECT_NE(e.find("'a'"), std::string::npos) << e;
  // Byte count disagrees with the shape.
  e = error_of(write_raw("count", R"({"w":{"dtype":"F16","shape":[2,3],"data_offsets":[0,16]}})", 16));
  EXPECT_NE(e.find("hold 16 bytes but F16 [2, 3] needs 12"), std::string::npos) << e;
  // Offsets beyond the file.
  e = error_of(write_raw("past", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 12));
  EXPECT_NE(e.find("run past the data section"), std::string::npos) << e;
  // End before begin.
  e = error_of(write_raw("reversed", R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 12));
  EXPECT_NE(e.find("end before begin"), std::string::npos) << e;
  // Negative shape, negative offset, float shape.
  e = error_of(write_raw("negshape", R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", 0));
  EXPECT_NE(e.find("negative"), std::string::npos) << e;
  e = error_of(write_raw("negoff", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4));
  EXPECT_NE(e.find("negative"), std::string::npos) << e;
  e = error_of(write_raw("floatshape", R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4));
  EXPECT_NE(e.find("non-negative integer"), std::string::npos) << e;
  // Overflowing shape.
  e = error_of(write_raw("overflow",
                         R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4));
  EXPECT_NE(e.find("overflows"), std::string::npos) << e;
  // Unknown dtype names the tensor and the dtype.
  e = error_of(write_raw("dtype", R"({"w.q":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", 4));
  EXPECT_NE(e.find("'w.q'"), std::string::npos) << e;
  EXPECT_NE(e.find("F8_E4M3"), std::string::npos) << e;
  // Missing fields, wrong types.
  e = error_of(write_raw("nooffsets", R"({"w":{"dtype":"F32","shape":[1]}})", 4));
  EXPECT_NE(e.find("missing 'data_offsets'"), std::string::npos) << e;
  e = error_of(write_raw("meta", R"({"__metadata__":{"k":1}})", 0));
  EXPECT_NE(e.find("__metadata__"), std::string::npos) << e;
  e = error_of(write_raw("array", R"([1,2,3])", 0));
  EXPECT_NE(e.find("JSON object"), std::string::npos) << e;
}

TEST(Safetensors, RecognizesIntegerAndF64Dtypes) {
  std::string path = write_raw("ints",
                               R"({"a":{"dtype":"I8","shape":[3],"data_offsets":[0,3]},)"
                               R"("b":{"dtype":"I32","shape":[2],"data_offsets":[3,11]},)"
                               R"("c":{"dtype":"I64","shape":[1],"data_offsets":[11,19]},)"
                               R"("d":{"dtype":"F64","shape":[1],"data_offsets":[19,27]},)"
                               R"("e":{"dtype":"I16","shape":[1],"data_offsets":[27,29]}})",
                               29);
  SafetensorsFile st = read_safetensors(path);
  ASSERT_EQ(st.tensors.size(), 5u);
  EXPECT_EQ(st.find("a")->dtype, DType::I8);
  EXPECT_EQ(st.find("b")->dtype, DType::I32);
  EXPECT_EQ(st.find("c")->dtype, DType::I64);
  EXPECT_EQ(st.find("d")->dtype, DType::F64);
  EXPECT_EQ(st.find("e")->dtype, DType::I16);
  EXPECT_EQ(st.find("c")->nbytes, 8u);
  EXPECT_EQ(safetensors_dtype_name(DType::BF16), "BF16");
  EXPECT_EQ(safetensors_dtype_name(DType::Q4_K), "");
}

}  // namespace
}  // namespace lmpack
