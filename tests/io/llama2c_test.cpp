// llama2.c checkpoint reader: the real stories260K.bin and ts-llama-4.9M.bin
// headers and tensor shapes, a separate-classifier file written here, and
// truncation / header corruption sweeps that must throw, never crash.
#include "io/llama2c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "test_paths.h"

namespace lmpack {
namespace {

std::vector<char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_all(const std::string& path, const char* data, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data, static_cast<std::streamsize>(n));
}

float first_float(const TensorInfo& t) {
  float v;
  std::memcpy(&v, t.data, 4);
  return v;
}

TEST(Llama2c, Stories260KHeaderAndShapes) {
  LMPACK_REQUIRE_SHARED();
  const std::string path = testing::shared_path("models/stories260K/stories260K.bin");
  Llama2cFile f = read_llama2c(path);
  const Llama2cHeader& h = f.header;
  EXPECT_EQ(h.dim, 64);
  EXPECT_EQ(h.hidden_dim, 172);
  EXPECT_EQ(h.n_layers, 5);
  EXPECT_EQ(h.n_heads, 8);
  EXPECT_EQ(h.n_kv_heads, 4);
  EXPECT_EQ(h.vocab_size, 512);
  EXPECT_EQ(h.seq_len, 512);
  EXPECT_TRUE(h.shared_classifier);
  EXPECT_EQ(h.head_dim(), 8);
  EXPECT_EQ(h.kv_dim(), 32);
  EXPECT_EQ(llama2c_file_bytes(h), 1056540u);
  ASSERT_EQ(f.tensors.size(), 13u);  // no wcls
  EXPECT_EQ(f.tensor("token_embedding_table").shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(f.tensor("wq").shape, (std::vector<int64_t>{5, 64, 64}));
  EXPECT_EQ(f.tensor("wk").shape, (std::vector<int64_t>{5, 32, 64}));
  EXPECT_EQ(f.tensor("wv").shape, (std::vector<int64_t>{5, 32, 64}));
  EXPECT_EQ(f.tensor("wo").shape, (std::vector<int64_t>{5, 64, 64}));
  EXPECT_EQ(f.tensor("w1").shape, (std::vector<int64_t>{5, 172, 64}));
  EXPECT_EQ(f.tensor("w2").shape, (std::vector<int64_t>{5, 64, 172}));
  EXPECT_EQ(f.tensor("w3").shape, (std::vector<int64_t>{5, 172, 64}));
  EXPECT_EQ(f.tensor("rms_final_weight").shape, (std::vector<int64_t>{64}));
  EXPECT_EQ(f.tensor("freq_cis_real").shape, (std::vector<int64_t>{512, 4}));
  EXPECT_THROW(f.tensor("wcls"), Error);
  // Tensors tile the file after the header, in order, with nothing left over.
  size_t offset = kLlama2cHeaderBytes;
  int64_t params = 0;
  for (const TensorInfo& t : f.tensors) {
    EXPECT_EQ(t.data, f.file->data() + offset) << t.name;
    EXPECT_EQ(t.dtype, DType::F32);
    offset += t.nbytes;
    if (t.name.rfind("freq_cis", 0) != 0) params += t.n_elements();
  }
  EXPECT_EQ(offset, f.file->size());
  EXPECT_EQ(params, 260032);
  // freq_cis_real row 0 is cos(0) = 1; row 1 pair 0 is cos(1).
  const TensorInfo& fr = f.tensor("freq_cis_real");
  EXPECT_FLOAT_EQ(first_float(fr), 1.0f);
  float v;
  std::memcpy(&v, fr.data + 4 * 4, 4);
  EXPECT_NEAR(v, std::cos(1.0f), 1e-6);
  // A layer slice is a view at the right offset.
  TensorInfo wk3 = llama2c_layer_slice(f.tensor("wk"), 3, "blk.3.attn_k.weight");
  EXPECT_EQ(wk3.shape, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(wk3.nbytes, 32u * 64 * 4);
  EXPECT_EQ(wk3.data, f.tensor("wk").data + 3 * wk3.nbytes);
}

TEST(Llama2c, TsLlamaHeaderAndShapes) {
  LMPACK_REQUIRE_SHARED();
  Llama2cFile f = read_llama2c(testing::shared_path("models/ts-llama-4.9M/ts-llama-4.9M.bin"));
  const Llama2cHeader& h = f.header;
  EXPECT_EQ(h.dim, 256);
  EXPECT_EQ(h.hidden_dim, 768);
  EXPECT_EQ(h.n_layers, 6);
  EXPECT_EQ(h.n_heads, 8);
  EXPECT_EQ(h.n_kv_heads, 4);
  EXPECT_EQ(h.vocab_size, 512);
  EXPECT_EQ(h.seq_len, 256);
  EXPECT_TRUE(h.shared_classifier);
  EXPECT_EQ(f.file->size(), 19444764u);
  EXPECT_EQ(f.tensor("wk").shape, (std::vector<int64_t>{6, 128, 256}));
  EXPECT_EQ(f.tensor("w2").shape, (std::vector<int64_t>{6, 256, 768}));
  EXPECT_EQ(f.tensor("freq_cis_imag").shape, (std::vector<int64_t>{256, 16}));
  int64_t params = 0;
  for (const TensorInfo& t : f.tensors)
    if (t.name.rfind("freq_cis", 0) != 0) params += t.n_elements();
  EXPECT_EQ(params, 4852992);
}

// A tiny checkpoint with a separate classifier (negative vocab_size): every
// float is its own index, so each tensor's first value names its offset.
TEST(Llama2c, SeparateClassifier) {
  Llama2cHeader h;
  h.dim = 8;
  h.hidden_dim = 12;
  h.n_layers = 2;
  h.n_heads = 2;
  h.n_kv_heads = 1;
  h.vocab_size = 10;
  h.seq_len = 6;
  h.shared_classifier = false;
  const uint64_t bytes = llama2c_file_bytes(h);
  const int32_t header[7] = {8, 12, 2, 2, 1, -10, 6};
  std::vector<char> data(bytes);
  std::memcpy(data.data(), header, sizeof header);
  const uint64_t n_floats = (bytes - kLlama2cHeaderBytes) / 4;
  for (uint64_t i = 0; i < n_floats; ++i) {
    const float v = static_cast<float>(i);
    std::memcpy(data.data() + kLlama2cHeaderBytes + 4 * i, &v, 4);
  }
  const std::string path = testing::temp_dir() + "/separate_cls.bin";
  write_all(path, data.data(), data.size());
  Llama2cFile f = read_llama2c(path);
  EXPECT_FALSE(f.header.shared_classifier);
  EXPECT_EQ(f.header.vocab_size, 10);
  ASSERT_EQ(f.tensors.size(), 14u);
  const TensorInfo& wcls = f.tensor("wcls");
  EXPECT_EQ(wcls.shape, (std::vector<int64_t>{10, 8}));
  EXPECT_EQ(first_float(wcls), static_cast<float>(n_floats - 80));
  // wk is after token_embedding (80), rms_att (16), wq (2*8*8 = 128): kv_dim 4.
  EXPECT_EQ(f.tensor("wk").shape, (std::vector<int64_t>{2, 4, 8}));
  EXPECT_EQ(first_float(f.tensor("wk")), 224.0f);

  // The same bytes with a positive vocab_size are 320 bytes too long.
  const int32_t shared = 10;
  std::memcpy(data.data() + 20, &shared, 4);
  write_all(path, data.data(), data.size());
  try {
    read_llama2c(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path + ": size is " + std::to_string(bytes) + " bytes, expected " +
                       std::to_string(bytes - 320) + " for header (dim 8"),
              std::string::npos)
        << msg;
  }
}

TEST(Llama2c, TruncationAtManyOffsetsThrows) {
  LMPACK_REQUIRE_SHARED();
  const std::vector<char> data = read_all(testing::shared_path("models/stories260K/stories260K.bin"));
  ASSERT_EQ(data.size(), 1056540u);
  const std::string path = testing::temp_dir() + "/truncated.bin";
  std::vector<size_t> cuts = {0, 1, 3, 4, 27, 28, 29, 100, 4096, data.size() / 2, data.size() - 4, data.size() - 1};
  std::mt19937 gen(1234);
  for (int i = 0; i < 40; ++i) cuts.push_back(gen() % data.size());
  for (size_t cut : cuts) {
    write_all(path, data.data(), cut);
    EXPECT_THROW(read_llama2c(path), Error) << "cut at " << cut;
  }
  // One byte too many is an error too.
  std::vector<char> longer = data;
  longer.push_back(0);
  write_all(path, longer.data(), longer.size());
  try {
    read_llama2c(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("size is 1056541 bytes, expected 1056540"), std::string::npos) << e.what();
  }
}

TEST(Llama2c, HeaderCorruptionThrows) {
  LMPACK_REQUIRE_SHARED();
  const std::vector<char> data = read_all(testing::shared_path("models/stories260K/stories260K.bin"));
  const std::string path = testing::temp_dir() + "/corrupt.bin";
  std::mt19937 gen(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<char> bad = data;
    const size_t at = gen() % kLlama2cHeaderBytes;
    const char old = bad[at];
    do bad[at] = static_cast<char>(gen());
    while (bad[at] == old);
    write_all(path, bad.data(), bad.size());
    EXPECT_THROW(read_llama2c(path), Error) << "byte " << at << " " << int(old) << " -> " << int(bad[at]);
  }
  // Specific rule violations and their messages.
  auto expect_message = [&](int field, int32_t value, const std::string& needle) {
    std::vector<char> bad = data;
    std::memcpy(bad.data() + 4 * field, &value, 4);
    write_all(path, bad.data(), bad.size());
    try {
      read_llama2c(path);
      ADD_FAILURE() << "expected an error for field " << field << " = " << value;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_message(0, 0, "dim is 0");
  expect_message(0, -64, "dim is -64");
  expect_message(3, 7, "n_heads 7 does not divide dim 64");
  expect_message(4, 3, "n_kv_heads 3 does not divide n_heads 8");
  expect_message(3, 64, "head dimension 1");
  expect_message(2, 1 << 30, "n_layers is 1073741824");
  expect_message(6, 256, "expected 1048348 for header");
}

TEST(Llama2c, MissingFile) {
  EXPECT_THROW(read_llama2c(testing::temp_dir() + "/does_not_exist.bin"), Error);
}

}  // namespace
}  // namespace lmpack
