#include "model/save_hf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"
#include "model/hf_config.h"
#include "model/load_hf.h"
#include "model/loaders.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string hf_dir() { return testing::shared_path("models/stories260K-hf"); }

void expect_same_config(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.architecture, b.architecture);
  EXPECT_EQ(a.dim, b.dim);
  EXPECT_EQ(a.hidden_dim, b.hidden_dim);
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.n_heads, b.n_heads);
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.context_length, b.context_length);
  EXPECT_EQ(a.rms_eps, b.rms_eps);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.tied_embeddings, b.tied_embeddings);
  EXPECT_EQ(a.attn_qkv_bias, b.attn_qkv_bias);
}

TEST(SaveHf, F32RoundTripIsExactAndMatchesTheOriginalFile) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint original = load_hf_checkpoint(hf_dir());
  const std::string out = testing::temp_dir() + "/save_f32/nested";
  fs::remove_all(testing::temp_dir() + "/save_f32");
  EXPECT_THROW(save_hf(original, out, DType::F32), Error) << "a missing parent folder is an error";
  fs::create_directories(testing::temp_dir() + "/save_f32");
  save_hf(original, out, DType::F32);
  EXPECT_TRUE(fs::exists(out + "/config.json"));

  Checkpoint back = load_hf_checkpoint(out);
  expect_same_config(back.config, original.config);
  ASSERT_EQ(back.tensors.size(), original.tensors.size());
  for (const auto& [name, t] : original.tensors) {
    const TensorInfo& b = back.tensors.at(name);
    EXPECT_EQ(b.shape, t.shape) << name;
    EXPECT_EQ(b.dtype, DType::F32);
    ASSERT_EQ(b.nbytes, t.nbytes) << name;
    EXPECT_EQ(std::memcmp(b.data, t.data, t.nbytes), 0) << name;
  }
  // In HF terms too: every tensor of the written file, q/k permuted back to
  // halves, equals the shared file's tensor of that name.
  SafetensorsFile a = read_safetensors(hf_dir() + "/model.safetensors");
  SafetensorsFile w = read_safetensors(out + "/model.safetensors");
  EXPECT_EQ(w.data_offset % 8, 0u);
  ASSERT_EQ(a.tensors.size(), w.tensors.size());
  for (const TensorInfo& t : a.tensors) {
    const TensorInfo* u = w.find(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    ASSERT_EQ(u->nbytes, t.nbytes);
    EXPECT_EQ(std::memcmp(u->data, t.data, t.nbytes), 0) << t.name;
  }
  // Data in sorted-name order, as in the shared file: the data sections match byte for byte.
  ASSERT_EQ(a.file->size() - a.data_offset, w.file->size() - w.data_offset);
  EXPECT_EQ(std::memcmp(a.file->data() + a.data_offset, w.file->data() + w.data_offset, a.file->size() - a.data_offset),
            0);
}

float round_to(float x, DType d);
float stored(const TensorInfo& t, int64_t i);

TEST(SaveHf, GgufToHfReproducesTheDerivedFolder) {
  // stories260K.gguf stores q/k in adjacent-pair order; written as HF they
  // must come out exactly as the independently made stories260K-hf file.
  LMPACK_REQUIRE_SHARED();
  Checkpoint gguf = load_checkpoint(testing::shared_path("models/stories260K/stories260K.gguf"));
  const std::string out = testing::temp_dir() + "/save_from_gguf";
  save_hf(gguf, out, DType::F32);
  SafetensorsFile ref = read_safetensors(hf_dir() + "/model.safetensors");
  SafetensorsFile w = read_safetensors(out + "/model.safetensors");
  for (const TensorInfo& t : ref.tensors) {
    const TensorInfo* u = w.find(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(u->shape, t.shape) << t.name;
    ASSERT_EQ(u->nbytes, t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(u->data, t.data, t.nbytes), 0) << t.name;
  }
  // The GGUF carries its own untied copy of the classifier.
  const TensorInfo* head = w.find("lm_head.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(std::memcmp(head->data, ref.find("model.embed_tokens.weight")->data, head->nbytes), 0);
  EXPECT_EQ(w.tensors.size(), ref.tensors.size() + 1);
  Checkpoint back = load_hf_checkpoint(out);
  EXPECT_EQ(back.config.context_length, 2048);
  EXPECT_EQ(back.config.n_kv_heads, 4);
}

TEST(SaveHf, F16GgufRoundTripsThroughHf) {
  // llama-2-tiny-random.gguf: F16 matrices, F32 norms, separate output, a vocab.
  LMPACK_REQUIRE_SHARED();
  Checkpoint gguf = load_checkpoint(testing::shared_path("models/llama-2-tiny-random/llama-2-tiny-random.gguf"));
  const std::string out = testing::temp_dir() + "/save_tiny_f16";
  save_hf(gguf, out, DType::F16);
  const std::string config = [&] {
    std::ifstream in(out + "/config.json");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }();
  EXPECT_NE(config.find("\"bos_token_id\": 1"), std::string::npos) << config;
  EXPECT_NE(config.find("\"torch_dtype\": \"float16\""), std::string::npos) << config;
  Checkpoint back = load_hf_checkpoint(out);
  expect_same_config(back.config, gguf.config);
  ASSERT_EQ(back.tensors.size(), gguf.tensors.size());
  int f16_tensors = 0;
  for (const auto& [name, t] : gguf.tensors) {
    const TensorInfo& b = back.tensors.at(name);
    ASSERT_EQ(b.shape, t.shape) << name;
    ASSERT_EQ(b.dtype, DType::F16) << name;
    if (t.dtype == DType::F16) {  // F16 -> F16: the same bits, q/k included
      ++f16_tensors;
      EXPECT_EQ(std::memcmp(b.data, t.data, t.nbytes), 0) << name;
    } else {
      ASSERT_EQ(t.dtype, DType::F32) << name;
      const float* src = reinterpret_cast<const float*>(t.data);
      for (int64_t i = 0; i < t.n_elements(); ++i) ASSERT_EQ(stored(b, i), round_to(src[i], DType::F16)) << name;
    }
  }
  EXPECT_GE(f16_tensors, 7);
}

float round_to(float x, DType d) {
  return d == DType::F16 ? fp16_to_f32(f32_to_fp16(x)) : bf16_to_f32(f32_to_bf16(x));
}

float stored(const TensorInfo& t, int64_t i) {
  uint16_t h;
  std::memcpy(&h, t.data + 2 * i, 2);
  return t.dtype == DType::F16 ? fp16_to_f32(h) : bf16_to_f32(h);
}

TEST(SaveHf, HalfPrecisionsRoundEachValueToNearest) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint original = load_hf_checkpoint(hf_dir());
  for (DType d : {DType::F16, DType::BF16}) {
    const std::string out = testing::temp_dir() + "/save_" + std::string(dtype_name(d));
    save_hf(original, out, d);
    Checkpoint back = load_hf_checkpoint(out);
    expect_same_config(back.config, original.config);
    ModelConfig cfg = read_hf_config(out + "/config.json");
    EXPECT_EQ(cfg.dim, 64);
    double worst = 0;
    for (const auto& [name, t] : original.tensors) {
      const TensorInfo& b = back.tensors.at(name);
      ASSERT_EQ(b.dtype, d) << name;
      ASSERT_EQ(b.n_elements(), t.n_elements());
      const float* src = reinterpret_cast<const float*>(t.data);
      for (int64_t i = 0; i < t.n_elements(); ++i) {
        ASSERT_EQ(stored(b, i), round_to(src[i], d)) << name << "[" << i << "]";
        if (std::abs(src[i]) >= 6.2e-5f)  // normal range of both formats
          worst = std::max(worst, std::abs(double(stored(b, i)) - src[i]) / std::abs(double(src[i])));
      }
    }
    EXPECT_LE(worst, d == DType::F16 ? 1.0 / 2048 : 1.0 / 256) << dtype_name(d);  // unit roundoff
    EXPECT_GT(worst, 0.0);

    // And from the half-precision checkpoint back to F32: exact widening.
    const std::string out32 = out + "_f32";
    save_hf(back, out32, DType::F32);
    Checkpoint wide = load_hf_checkpoint(out32);
    for (const auto& [name, t] : back.tensors) {
      const float* w = reinterpret_cast<const float*>(wide.tensors.at(name).data);
      for (int64_t i = 0; i < t.n_elements(); ++i) ASSERT_EQ(w[i], stored(t, i)) << name;
    }
  }
}

TEST(SaveHf, UntiedOutputIsWrittenAsLmHead) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint ckpt = load_hf_checkpoint(hf_dir());
  ckpt.config.tied_embeddings = false;
  TensorInfo out = ckpt.tensors.at("token_embd.weight");
  out.name = "output.weight";
  ckpt.tensors["output.weight"] = out;
  const std::string dir = testing::temp_dir() + "/save_untied";
  save_hf(ckpt, dir, DType::F32);
  SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  ASSERT_NE(st.find("lm_head.weight"), nullptr);
  Checkpoint back = load_hf_checkpoint(dir);
  EXPECT_FALSE(back.config.tied_embeddings);
  EXPECT_EQ(std::memcmp(back.tensors.at("output.weight").data, out.data, out.nbytes), 0);
}

TEST(SaveHf, RopeFreqsNeedLlama3Scaling) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint ckpt = load_hf_checkpoint(hf_dir());
  std::vector<float> freqs(4, 1.0f);
  TensorInfo t;
  t.name = "rope_freqs.weight";
  t.shape = {4};
  t.data = reinterpret_cast<const uint8_t*>(freqs.data());
  t.nbytes = 16;
  ckpt.tensors[t.name] = t;
  const std::string dir = testing::temp_dir() + "/save_rope_freqs";
  try {
    save_hf(ckpt, dir, DType::F32);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rope_freqs.weight"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir));
  ckpt.config.rope_scaling.type = RopeScaling::Type::kLlama3;
  ckpt.config.rope_scaling.factor = 8.0f;
  save_hf(ckpt, dir, DType::F32);
  Checkpoint back = load_hf_checkpoint(dir);
  EXPECT_EQ(back.config.rope_scaling.type, RopeScaling::Type::kLlama3);
  EXPECT_EQ(back.config.rope_scaling.factor, 8.0f);
  EXPECT_EQ(back.tensors.count("rope_freqs.weight"), 0u);
  EXPECT_EQ(back.tensors.size(), 47u);
}

TEST(SaveHf, FailureLeavesNoFiles) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint ckpt = load_hf_checkpoint(hf_dir());
  // model.norm.weight is the last tensor written (sorted names); make it
  // undecodable so the failure comes after the other tensors were streamed.
  ckpt.tensors.at("output_norm.weight").dtype = DType::I32;
  const std::string dir = testing::temp_dir() + "/save_fail";
  fs::remove_all(dir);
  EXPECT_THROW(save_hf(ckpt, dir, DType::F16), Error);
  EXPECT_FALSE(fs::exists(dir));  // created by save_hf, removed again

  fs::create_directories(dir);
  EXPECT_THROW(save_hf(ckpt, dir, DType::F16), Error);
  EXPECT_TRUE(fs::exists(dir));  // not ours to remove
  EXPECT_TRUE(fs::is_empty(dir));

  // Refused before anything is written.
  Checkpoint bad = load_hf_checkpoint(hf_dir());
  bad.tensors["blk.0.attn_sinks.weight"] = bad.tensors.at("output_norm.weight");
  try {
    save_hf(bad, dir, DType::F32);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'blk.0.attn_sinks.weight' has no Hugging Face Llama name"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(save_hf(load_hf_checkpoint(hf_dir()), dir, DType::Q4_0), Error);
  EXPECT_TRUE(fs::is_empty(dir));
}

}  // namespace
}  // namespace lmpack
