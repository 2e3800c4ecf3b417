// Importance-matrix files: the GGUF layout round trip through
// write_imatrix_gguf; a GGUF imatrix built tensor by tensor the way
// llama-imatrix writes it (MoE rows, a zero count); a legacy .dat written here
// byte by byte per llama.cpp's save_imatrix_legacy; truncation sweeps and
// hostile values.
#include "io/imatrix.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "test_paths.h"

namespace lmpack {
namespace {

std::string temp(const std::string& name) { return testing::temp_dir() + "/" + name; }

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

template <typename T>
std::string pod(T v) {
  std::string b(sizeof(T), '\0');
  std::memcpy(b.data(), &v, sizeof(T));
  return b;
}

ImportanceMatrix sample() {
  ImportanceMatrix m;
  m.values["blk.0.attn_q.weight"] = {0.5f, 1.25f, 3.0f, 0.0f};
  m.values["blk.0.ffn_down.weight"] = {2.0f, 1e-3f, 7.5f, 0.125f, 4.0f, 9.0f};
  m.values["output.weight"] = {1.0f, 2.0f};
  m.chunk_count = 10;
  m.chunk_size = 512;
  m.datasets = {"wiki.train.raw", "tinystories.txt"};
  return m;
}

TEST(Imatrix, GgufRoundTrip) {
  const ImportanceMatrix m = sample();
  const std::string path = temp("round.imatrix.gguf");
  write_imatrix_gguf(m, path);

  // The file itself, as llama.cpp's quantize reads it.
  GgufFile g = read_gguf(path);
  EXPECT_EQ(g.get_string("general.type"), "imatrix");
  EXPECT_EQ(g.get_string_array("imatrix.datasets"), m.datasets);
  EXPECT_EQ(g.get_int("imatrix.chunk_count"), 10);
  EXPECT_EQ(g.get_int("imatrix.chunk_size"), 512);
  ASSERT_EQ(g.tensors.size(), 6u);
  EXPECT_EQ(g.tensors[0].name, "blk.0.attn_q.weight.in_sum2");
  EXPECT_EQ(g.tensors[0].shape, (std::vector<int64_t>{4}));  // ne {4}, as llama-imatrix writes one matrix
  EXPECT_EQ(g.tensors[1].name, "blk.0.attn_q.weight.counts");
  EXPECT_EQ(g.tensors[1].shape, (std::vector<int64_t>{1}));
  float count;
  std::memcpy(&count, g.tensors[1].data, 4);
  EXPECT_EQ(count, 5120.0f);  // tokens = chunks * chunk size

  ImportanceMatrix back = read_imatrix(path);
  EXPECT_EQ(back.chunk_count, 10);
  EXPECT_EQ(back.chunk_size, 512);
  EXPECT_EQ(back.datasets, m.datasets);
  ASSERT_EQ(back.values.size(), m.values.size());
  for (const auto& [name, v] : m.values) {
    const std::vector<float>& b = back.values.at(name);
    ASSERT_EQ(b.size(), v.size()) << name;
    for (size_t i = 0; i < v.size(); ++i) EXPECT_FLOAT_EQ(b[i], v[i]) << name << "[" << i << "]";
  }
}

TEST(Imatrix, GgufAsLlamaImatrixWritesIt) {
  // Two experts of 3 columns with counts 4 and 0: the second gets ones.
  // An ".in_sum" tensor (newer llama-imatrix) is ignored.
  const std::string path = temp("llama.imatrix.gguf");
  {
    GgufWriter w(path);
    w.add_string("general.type", "imatrix");
    w.add_string_array("imatrix.datasets", {"calib.txt"});
    w.add_u32("imatrix.chunk_count", 3);
    w.add_u32("imatrix.chunk_size", 128);
    w.add_tensor("blk.1.ffn_down_exps.weight.in_sum2", DType::F32, {2, 3});
    w.add_tensor("blk.1.ffn_down_exps.weight.counts", DType::F32, {2, 1});
    w.add_tensor("blk.1.ffn_down_exps.weight.in_sum", DType::F32, {2, 3});
    const float sums[6] = {4, 8, 2, 5, 5, 5};
    const float counts[2] = {4, 0};
    const float plain[6] = {-1, -1, -1, -1, -1, -1};  // negative is fine here: not read
    w.write_tensor("blk.1.ffn_down_exps.weight.in_sum2", sums, sizeof sums);
    w.write_tensor("blk.1.ffn_down_exps.weight.counts", counts, sizeof counts);
    w.write_tensor("blk.1.ffn_down_exps.weight.in_sum", plain, sizeof plain);
    w.finish();
  }
  ImportanceMatrix m = read_imatrix(path);
  ASSERT_EQ(m.values.size(), 1u);
  EXPECT_EQ(m.values.at("blk.1.ffn_down_exps.weight"), (std::vector<float>{1, 2, 0.5f, 1, 1, 1}));
  EXPECT_EQ(m.matrices.at("blk.1.ffn_down_exps.weight"), 2);
  EXPECT_EQ(m.chunk_count, 3);
  EXPECT_EQ(m.datasets, std::vector<std::string>{"calib.txt"});

  // Written back in the same layout: ne {3, 2} and counts ne {1, 2}.
  const std::string again = temp("llama.imatrix.again.gguf");
  write_imatrix_gguf(m, again);
  const GgufFile g = read_gguf(again);
  ASSERT_EQ(g.tensors.size(), 2u);
  EXPECT_EQ(g.tensors[0].name, "blk.1.ffn_down_exps.weight.in_sum2");
  EXPECT_EQ(g.tensors[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(g.tensors[1].name, "blk.1.ffn_down_exps.weight.counts");
  EXPECT_EQ(g.tensors[1].shape, (std::vector<int64_t>{2, 1}));
  const ImportanceMatrix back = read_imatrix(again);
  EXPECT_EQ(back.values, m.values);
  EXPECT_EQ(back.matrices, m.matrices);
}

// A legacy .dat exactly as save_imatrix_legacy writes it: entries sorted by
// name, stored values = (sum / count) * ncall, then the chunk count and the
// dataset name.
std::string legacy_file(bool with_chunks, bool with_dataset) {
  std::string b = pod<int32_t>(2);
  auto entry = [&](const std::string& name, int32_t ncall, const std::vector<float>& means) {
    b += pod<int32_t>(static_cast<int32_t>(name.size())) + name + pod<int32_t>(ncall) +
         pod<int32_t>(static_cast<int32_t>(means.size()));
    for (float m : means) b += pod<float>(m * static_cast<float>(ncall));
  };
  entry("blk.0.attn_k.weight", 4, {0.25f, 1.5f, 2.0f});
  entry("blk.0.ffn_up.weight", 1, {3.0f, 0.5f});
  if (with_chunks) b += pod<int32_t>(4);
  if (with_dataset) b += pod<int32_t>(9) + "wiki.test";
  return b;
}

TEST(Imatrix, LegacyDatIsReadAsLlamaCppQuantizeReadsIt) {
  const std::string path = temp("legacy.dat");
  write_bytes(path, legacy_file(true, true));
  ImportanceMatrix m = read_imatrix(path);
  ASSERT_EQ(m.values.size(), 2u);
  EXPECT_EQ(m.values.at("blk.0.attn_k.weight"), (std::vector<float>{0.25f, 1.5f, 2.0f}));  // stored / ncall
  EXPECT_EQ(m.values.at("blk.0.ffn_up.weight"), (std::vector<float>{3.0f, 0.5f}));
  EXPECT_EQ(m.chunk_count, 4);
  EXPECT_EQ(m.datasets, std::vector<std::string>{"wiki.test"});

  // Older files stop after the entries, or after the chunk count.
  write_bytes(path, legacy_file(false, false));
  EXPECT_EQ(read_imatrix(path).values.size(), 2u);
  write_bytes(path, legacy_file(true, false));
  EXPECT_EQ(read_imatrix(path).chunk_count, 4);

  // Converted to GGUF and read back: the same values.
  write_bytes(path, legacy_file(true, true));
  const std::string gguf = temp("legacy_to.gguf");
  write_imatrix_gguf(read_imatrix(path), gguf);
  ImportanceMatrix g = read_imatrix(gguf);
  for (const auto& [name, v] : m.values)
    for (size_t i = 0; i < v.size(); ++i) EXPECT_FLOAT_EQ(g.values.at(name)[i], v[i]);
}

TEST(Imatrix, LegacyTruncationSweep) {
  // Every cut is an error except at the two places where an older file ends.
  const std::string full = legacy_file(true, true);
  const size_t entries_end = legacy_file(false, false).size();
  const size_t chunks_end = legacy_file(true, false).size();
  const std::string path = temp("legacy_cut.dat");
  for (size_t n = 0; n < full.size(); ++n) {
    write_bytes(path, full.substr(0, n));
    if (n == entries_end || n == chunks_end) {
      EXPECT_NO_THROW(read_imatrix(path)) << n;
      continue;
    }
    try {
      read_imatrix(path);
      ADD_FAILURE() << "cut at " << n << " of " << full.size() << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
    }
  }
}

TEST(Imatrix, GgufTruncationSweep) {
  const std::string src = temp("sweep.imatrix.gguf");
  write_imatrix_gguf(sample(), src);
  const std::string full = read_bytes(src);
  const std::string path = temp("sweep_cut.imatrix.gguf");
  // The last tensor's padding is not needed by the reader; every cut before
  // the end of the last tensor's data must fail.
  GgufFile g = read_gguf(src);
  const size_t data_end = static_cast<size_t>(g.tensors.back().data - g.file->data()) + g.tensors.back().nbytes;
  for (size_t n = 0; n < data_end; ++n) {
    write_bytes(path, full.substr(0, n));
    EXPECT_THROW(read_imatrix(path), Error) << "cut at " << n;
  }
}

TEST(Imatrix, HostileLegacyValues) {
  const std::string path = temp("hostile.dat");
  auto one = [](int32_t name_len, const std::string& name, int32_t ncall, int32_t nval, const std::vector<float>& v) {
    std::string b = pod<int32_t>(1) + pod<int32_t>(name_len) + name + pod<int32_t>(ncall) + pod<int32_t>(nval);
    for (float x : v) b += pod<float>(x);
    return b;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"count 0", pod<int32_t>(0)},
      {"count negative", pod<int32_t>(-3)},
      {"huge count", pod<int32_t>(1 << 30) + std::string(64, '\0')},
      {"name length 0", one(0, "", 1, 1, {1})},
      {"name length negative", one(-5, "", 1, 1, {1})},
      {"nval 0", one(1, "x", 1, 0, {})},
      {"nval negative", one(1, "x", 1, -1, {1})},
      {"nval past the end", one(1, "x", 1, 1000, {1})},
      {"NaN", one(1, "x", 1, 2, {1, nan})},
      {"infinity", one(1, "x", 1, 1, {inf})},
      {"negative value", one(1, "x", 1, 1, {-0.5f})},
      {"trailing garbage", one(1, "x", 1, 1, {1}) + pod<int32_t>(1) + pod<int32_t>(1) + "d" + "zz"},
      {"dataset length negative", one(1, "x", 1, 1, {1}) + pod<int32_t>(1) + pod<int32_t>(-2)},
      {"too short", "ab"},
  };
  for (const auto& [what, bytes] : cases) {
    write_bytes(path, bytes);
    EXPECT_THROW(read_imatrix(path), Error) << what;
  }
  // Two entries of the same name.
  std::string dup = pod<int32_t>(2);
  for (int k = 0; k < 2; ++k) dup += pod<int32_t>(1) + "x" + pod<int32_t>(1) + pod<int32_t>(1) + pod<float>(1);
  write_bytes(path, dup);
  EXPECT_THROW(read_imatrix(path), Error);
}

TEST(Imatrix, HostileGgufContents) {
  const std::string path = temp("hostile.imatrix.gguf");
  auto write = [&](const std::string& type, const std::vector<float>& sums, const std::vector<float>& counts,
                   bool with_counts = true) {
    GgufWriter w(path);
    w.add_string("general.type", type);
    w.add_tensor("w.in_sum2", DType::F32, {static_cast<int64_t>(counts.size()), 2});
    if (with_counts) w.add_tensor("w.counts", DType::F32, {static_cast<int64_t>(counts.size()), 1});
    w.write_tensor("w.in_sum2", sums.data(), sums.size() * 4);
    if (with_counts) w.write_tensor("w.counts", counts.data(), counts.size() * 4);
    w.finish();
  };
  write("imatrix", {1, 2}, {1});
  EXPECT_NO_THROW(read_imatrix(path));
  write("model", {1, 2}, {1});
  EXPECT_THROW(read_imatrix(path), Error);  // a model GGUF, not an imatrix
  write("imatrix", {1, 2}, {1}, false);
  EXPECT_THROW(read_imatrix(path), Error);  // sums without counts
  write("imatrix", {1, std::numeric_limits<float>::quiet_NaN()}, {1});
  EXPECT_THROW(read_imatrix(path), Error);
  write("imatrix", {1, -2}, {1});
  EXPECT_THROW(read_imatrix(path), Error);
  write("imatrix", {1, 2}, {-1});
  EXPECT_THROW(read_imatrix(path), Error);
  write("imatrix", {1, 2, 3, 4}, {1, 1});
  EXPECT_NO_THROW(read_imatrix(path));
  {  // no entries at all
    GgufWriter w(path);
    w.add_string("general.type", "imatrix");
    w.finish();
  }
  EXPECT_THROW(read_imatrix(path), Error);
  {  // in_sum2 with more rows than counts
    GgufWriter w(path);
    w.add_tensor("w.in_sum2", DType::F32, {2, 2});
    w.add_tensor("w.counts", DType::F32, {1, 1});
    const float s[4] = {1, 1, 1, 1}, c[1] = {1};
    w.write_tensor("w.in_sum2", s, sizeof s);
    w.write_tensor("w.counts", c, sizeof c);
    w.finish();
  }
  EXPECT_THROW(read_imatrix(path), Error);
}

TEST(Imatrix, WriterRefusesBadValues) {
  ImportanceMatrix m;
  m.values["x"] = {1.0f, -1.0f};
  const std::string path = temp("refused.imatrix.gguf");
  EXPECT_THROW(write_imatrix_gguf(m, path), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
  m.values["x"] = {};
  EXPECT_THROW(write_imatrix_gguf(m, path), Error);
  m.values.clear();
  EXPECT_THROW(write_imatrix_gguf(m, path), Error);
  m.values[std::string(60, 'n')] = {1.0f};  // "<name>.in_sum2" longer than GGUF names allow
  EXPECT_THROW(write_imatrix_gguf(m, path), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace lmpack
