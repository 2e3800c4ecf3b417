// GGUF reader: real files from ../shared (stories260K, llama-2-tiny-random,
// llama.cpp's vocab-only files), synthetic files covering every metadata
// type, nested arrays, v2/v3, alignment and a quantized tensor, every
// header error, and truncation/corruption sweeps over a real file.
#include "io/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <random>

#include "core/error.h"
#include "formats/decode.h"
#include "gguf_test_writer.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::Bytes;
using testing::gguf_array;
using testing::gguf_pod;
using testing::gguf_str;
using testing::TestGgufWriter;

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

GgufFile parse(const std::vector<uint8_t>& b) { return parse_gguf(b.data(), b.size(), "mem.gguf"); }

TEST(Gguf, Stories260K) {
  LMPACK_REQUIRE_SHARED();
  GgufFile g = read_gguf(testing::shared_path("models/stories260K/stories260K.gguf"));
  EXPECT_EQ(g.version, 3u);
  EXPECT_EQ(g.alignment, 32u);
  EXPECT_EQ(g.data_offset % 32, 0u);
  ASSERT_EQ(g.tensors.size(), 48u);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(g.get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(g.get_int("llama.attention.head_count_kv"), 4);
  EXPECT_EQ(g.get_int("llama.context_length"), 2048);
  EXPECT_FLOAT_EQ(static_cast<float>(g.get_float("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 512u);
  EXPECT_EQ(g.get_float_array("tokenizer.ggml.scores").size(), 512u);
  EXPECT_EQ(g.get_int_array("tokenizer.ggml.token_type").size(), 512u);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens")[3], "<0x00>");
  EXPECT_EQ(g.find("tokenizer.ggml.padding_token_id")->u, 0xFFFFFFFFu);

  int64_t elements = 0;
  const TensorInfo* embd = nullptr;
  const TensorInfo* output = nullptr;
  const TensorInfo* wq0 = nullptr;
  for (const TensorInfo& t : g.tensors) {
    EXPECT_EQ(t.dtype, DType::F32) << t.name;
    EXPECT_EQ(t.nbytes, static_cast<size_t>(t.n_elements()) * 4) << t.name;
    EXPECT_GE(t.data, g.file->data() + g.data_offset);
    EXPECT_LE(t.data + t.nbytes, g.file->data() + g.file->size());
    elements += t.n_elements();
    if (t.name == "token_embd.weight") embd = &t;
    if (t.name == "output.weight") output = &t;
    if (t.name == "blk.0.attn_q.weight") wq0 = &t;
    if (t.name == "blk.0.attn_k.weight") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{32, 64}));
    }
    if (t.name == "blk.3.ffn_down.weight") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{64, 172}));
    }
    if (t.name == "output_norm.weight") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{64}));
    }
  }
  EXPECT_EQ(elements, 292800);
  ASSERT_TRUE(embd && output && wq0);
  EXPECT_EQ(embd->shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(std::memcmp(embd->data, output->data, embd->nbytes), 0);

  // DATA.md: every tensor is bit-identical to the llama2.c .bin, whose
  // token_embedding starts at byte 28, followed by rms_att (5x64) then wq.
  std::vector<uint8_t> bin = read_all(testing::shared_path("models/stories260K/stories260K.bin"));
  ASSERT_EQ(bin.size(), 1056540u);
  EXPECT_EQ(std::memcmp(embd->data, bin.data() + 28, embd->nbytes), 0);
  EXPECT_EQ(std::memcmp(wq0->data, bin.data() + 28 + 4 * (512 * 64 + 5 * 64), wq0->nbytes), 0);
}

TEST(Gguf, LlamaTinyRandomF16) {
  LMPACK_REQUIRE_SHARED();
  GgufFile g = read_gguf(testing::shared_path("models/llama-2-tiny-random/llama-2-tiny-random.gguf"));
  EXPECT_EQ(g.get_int("general.file_type"), 1);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 32000u);
  int f16 = 0;
  for (const TensorInfo& t : g.tensors) {
    if (t.shape.size() == 2) {
      EXPECT_EQ(t.dtype, DType::F16) << t.name;
      ++f16;
    } else {
      EXPECT_EQ(t.dtype, DType::F32) << t.name;
    }
    if (t.name == "token_embd.weight") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{32000, 8}));
      EXPECT_EQ(t.nbytes, 32000u * 8 * 2);
      std::vector<float> x(t.n_elements());
      decode_to_f32(x.data(), t.data, t.dtype, t.n_elements());
      double sum_sq = 0;
      for (float v : x) {
        ASSERT_TRUE(std::isfinite(v));
        sum_sq += double(v) * v;
      }
      EXPECT_GT(sum_sq, 0.0);
    }
  }
  EXPECT_EQ(f16, 9);
}

TEST(Gguf, VocabOnlyFiles) {
  LMPACK_REQUIRE_SHARED();
  struct Case {
    const char* file;
    const char* model;
    size_t n_vocab;
  };
  const Case cases[] = {{"llama-spm", "llama", 32000},   {"phi-3", "llama", 32064},
                        {"gpt-2", "gpt2", 50257},        {"deepseek-coder", "gpt2", 32256},
                        {"falcon", "gpt2", 65024},       {"bert-bge", "bert", 30522}};
  for (const Case& c : cases) {
    GgufFile g = read_gguf(testing::shared_path(std::string("data/llamacpp-vocab-tests/ggml-vocab-") + c.file + ".gguf"));
    EXPECT_EQ(g.tensors.size(), 0u) << c.file;
    EXPECT_EQ(g.version, 3u) << c.file;
    EXPECT_EQ(g.get_string("tokenizer.ggml.model"), c.model) << c.file;
    EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), c.n_vocab) << c.file;
  }
}

// ---- synthetic files ----

TestGgufWriter every_type_writer(uint32_t version, uint64_t alignment) {
  TestGgufWriter w(version, alignment);
  w.kv("t.u8", testing::kGU8, gguf_pod<uint8_t>(200));
  w.kv("t.i8", testing::kGI8, gguf_pod<int8_t>(-100));
  w.kv("t.u16", testing::kGU16, gguf_pod<uint16_t>(60000));
  w.kv("t.i16", testing::kGI16, gguf_pod<int16_t>(-30000));
  w.kv("t.u32", testing::kGU32, gguf_pod<uint32_t>(4000000000u));
  w.kv("t.i32", testing::kGI32, gguf_pod<int32_t>(-2000000000));
  w.kv("t.f32", testing::kGF32, gguf_pod<float>(1.5f));
  w.kv("t.bool", testing::kGBool, gguf_pod<uint8_t>(1));
  w.kv("t.str", testing::kGStr, gguf_str("héllo"));
  w.kv("t.u64", testing::kGU64, gguf_pod<uint64_t>(~uint64_t{0}));
  w.kv("t.i64", testing::kGI64, gguf_pod<int64_t>(-(int64_t{1} << 40)));
  w.kv("t.f64", testing::kGF64, gguf_pod<double>(-2.25));
  w.kv_f32s("t.floats", {0.5f, -1.0f});
  w.kv_strings("t.strings", {"a", "", "ccc"});
  // Array of arrays: [[1, 2], [], [3]] as int32, and [["x"], ["y", "z"]].
  Bytes inner = gguf_array(testing::kGI32, 2, gguf_pod<int32_t>(1) + gguf_pod<int32_t>(2)) +
                gguf_array(testing::kGI32, 0, "") + gguf_array(testing::kGI32, 1, gguf_pod<int32_t>(3));
  w.kv("t.nested", testing::kGArr, gguf_array(testing::kGArr, 3, inner));
  Bytes inner_s = gguf_array(testing::kGStr, 1, gguf_str("x")) +
                  gguf_array(testing::kGStr, 2, gguf_str("y") + gguf_str("z"));
  w.kv("t.nested_str", testing::kGArr, gguf_array(testing::kGArr, 2, inner_s));
  if (alignment != 32) w.kv_u32("general.alignment", static_cast<uint32_t>(alignment));
  return w;
}

TEST(Gguf, EveryMetadataTypeV2AndV3) {
  for (uint32_t version : {2u, 3u}) {
    std::vector<uint8_t> b = every_type_writer(version, 32).vec();
    GgufFile g = parse(b);
    EXPECT_EQ(g.version, version);
    ASSERT_EQ(g.metadata.size(), 16u);
    EXPECT_EQ(g.metadata[0].first, "t.u8");  // file order kept
    EXPECT_EQ(g.get_int("t.u8"), 200);
    EXPECT_EQ(g.get_int("t.i8"), -100);
    EXPECT_EQ(g.get_int("t.u16"), 60000);
    EXPECT_EQ(g.get_int("t.i16"), -30000);
    EXPECT_EQ(g.get_int("t.u32"), 4000000000ll);
    EXPECT_EQ(g.get_int("t.i32"), -2000000000);
    EXPECT_EQ(g.get_float("t.f32"), 1.5);
    EXPECT_TRUE(g.get_bool("t.bool"));
    EXPECT_EQ(g.get_string("t.str"), "héllo");
    EXPECT_EQ(g.find("t.u64")->u, ~uint64_t{0});
    EXPECT_THROW(g.get_int("t.u64"), Error);  // does not fit int64
    EXPECT_EQ(g.get_int("t.i64"), -(int64_t{1} << 40));
    EXPECT_EQ(g.get_float("t.f64"), -2.25);
    EXPECT_EQ(g.get_float("t.i8"), -100.0);  // integers are accepted as floats
    EXPECT_EQ(g.get_float_array("t.floats"), (std::vector<float>{0.5f, -1.0f}));
    EXPECT_EQ(g.get_string_array("t.strings"), (std::vector<std::string>{"a", "", "ccc"}));
    EXPECT_TRUE(g.find("t.u8")->is_integer());
    EXPECT_FALSE(g.find("t.f32")->is_integer());
    EXPECT_TRUE(g.find("t.f64")->is_float());

    const GgufValue* nested = g.find("t.nested");
    ASSERT_NE(nested, nullptr);
    EXPECT_EQ(nested->type, GgufType::kArray);
    EXPECT_EQ(nested->array.type(), GgufType::kArray);
    ASSERT_EQ(nested->array.size(), 3u);
    EXPECT_EQ(nested->array[0].array.type(), GgufType::kInt32);
    ASSERT_EQ(nested->array[0].array.size(), 2u);
    EXPECT_EQ(nested->array[0].array[1].i, 2);
    EXPECT_TRUE(nested->array[1].array.empty());
    EXPECT_EQ(nested->array[2].array[0].i, 3);
    const GgufValue* ns = g.find("t.nested_str");
    ASSERT_EQ(ns->array.size(), 2u);
    EXPECT_EQ(ns->array[1].array[1].str, "z");

    // Typed getters name the key and both types.
    try {
      g.get_string("t.u8");
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "mem.gguf: metadata key t.u8 has type uint8, expected string");
    }
    try {
      g.get_int("no.such.key");
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "mem.gguf: metadata key no.such.key is missing");
    }
    EXPECT_THROW(g.get_bool("t.u8"), Error);
    EXPECT_THROW(g.get_int_array("t.floats"), Error);
    EXPECT_THROW(g.get_string_array("t.nested"), Error);
    EXPECT_THROW(g.get_float_array("t.str"), Error);
  }
}

TEST(Gguf, TypeNames) {
  EXPECT_EQ(gguf_type_name(GgufType::kUint8), "uint8");
  EXPECT_EQ(gguf_type_name(GgufType::kFloat64), "float64");
  EXPECT_EQ(gguf_type_name(GgufType::kArray), "array");
  EXPECT_EQ(gguf_type_name(static_cast<GgufType>(77)), "unknown");
}

// A Q8_0 tensor of 2 rows x 64 and an F32 tensor, with alignment 64.
TEST(Gguf, AlignmentAndQuantizedTensor) {
  TestGgufWriter w = every_type_writer(3, 64);
  Bytes q8;
  std::vector<float> want;
  for (int blk = 0; blk < 4; ++blk) {
    const float d = 0.25f * (blk + 1);
    q8 += gguf_pod<uint16_t>(f32_to_fp16(d));
    for (int j = 0; j < 32; ++j) {
      const int8_t q = static_cast<int8_t>(j * 7 - 100 + blk);
      q8 += gguf_pod<int8_t>(q);
      want.push_back(d * q);
    }
  }
  w.tensor("q", {64, 2}, 8, q8);
  w.tensor("f", {3}, 0, gguf_pod(1.0f) + gguf_pod(2.0f) + gguf_pod(-3.0f));
  std::vector<uint8_t> b = w.vec();
  GgufFile g = parse(b);
  EXPECT_EQ(g.alignment, 64u);
  EXPECT_EQ(g.data_offset % 64, 0u);
  ASSERT_EQ(g.tensors.size(), 2u);
  const TensorInfo& q = g.tensors[0];
  EXPECT_EQ(q.name, "q");
  EXPECT_EQ(q.dtype, DType::Q8_0);
  EXPECT_EQ(q.shape, (std::vector<int64_t>{2, 64}));
  EXPECT_EQ(q.nbytes, 4u * 34);
  EXPECT_EQ(q.data, b.data() + g.data_offset);
  std::vector<float> x(128);
  decode_to_f32(x.data(), q.data, q.dtype, 128);
  EXPECT_EQ(x, want);
  const TensorInfo& f = g.tensors[1];
  EXPECT_EQ(f.data - b.data(), static_cast<ptrdiff_t>(g.data_offset + 192));  // 136 rounded up to 64
  float f2;
  std::memcpy(&f2, f.data + 4, 4);
  EXPECT_EQ(f2, 2.0f);
}

TEST(Gguf, FourDimensionalShapeIsReversed) {
  TestGgufWriter w;
  w.tensor("t", {2, 3, 4, 5}, 0, Bytes(120 * 4, '\1'));
  GgufFile g = parse(w.vec());
  EXPECT_EQ(g.tensors[0].shape, (std::vector<int64_t>{5, 4, 3, 2}));
}

}  // namespace
}  // namespace lmpack
