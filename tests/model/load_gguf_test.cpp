// GGUF -> Checkpoint and tokenizer.ggml.* -> Vocab: the real stories260K and
// llama-2-tiny-random models, llama.cpp's vocab-only files, synthetic files
// for qwen2 biases, defaults, tied embeddings and every config error, and a
// corruption sweep through the whole loader.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>

#include "core/error.h"
#include "gguf_test_writer.h"
#include "model/load_gguf.h"
#include "model/loaders.h"
#include "test_paths.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace {

using testing::Bytes;
using testing::TestGgufWriter;

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

TEST(LoadGguf, Stories260K) {
  LMPACK_REQUIRE_SHARED();
  const std::string path = testing::shared_path("models/stories260K/stories260K.gguf");
  Checkpoint c = load_gguf_checkpoint(path);
  EXPECT_EQ(c.path, path);
  EXPECT_EQ(c.format, "gguf");
  const ModelConfig& cfg = c.config;
  EXPECT_EQ(cfg.architecture, "llama");
  EXPECT_EQ(cfg.dim, 64);
  EXPECT_EQ(cfg.hidden_dim, 172);
  EXPECT_EQ(cfg.n_layers, 5);
  EXPECT_EQ(cfg.n_heads, 8);
  EXPECT_EQ(cfg.n_kv_heads, 4);
  EXPECT_EQ(cfg.head_dim, 8);
  EXPECT_EQ(cfg.vocab_size, 512);
  EXPECT_EQ(cfg.context_length, 2048);
  EXPECT_FLOAT_EQ(cfg.rms_eps, 1e-5f);
  EXPECT_EQ(cfg.rope_theta, 10000.0f);
  EXPECT_FALSE(cfg.tied_embeddings);  // the file carries a separate output.weight
  EXPECT_FALSE(cfg.attn_qkv_bias);
  EXPECT_EQ(c.tensors.size(), 48u);
  EXPECT_EQ(c.parameter_count(), 292800);
  EXPECT_NO_THROW(validate_checkpoint(c));

  ASSERT_TRUE(c.vocab.has_value());
  const Vocab& v = *c.vocab;
  EXPECT_EQ(v.model, "llama");
  EXPECT_EQ(v.pre, "default");
  EXPECT_EQ(v.size(), 512);
  EXPECT_EQ(v.scores.size(), 512u);
  EXPECT_EQ(v.token_types.size(), 512u);
  EXPECT_EQ(v.bos_id, 1);
  EXPECT_EQ(v.eos_id, 2);
  EXPECT_EQ(v.unk_id, 0);
  EXPECT_EQ(v.pad_id, -1);  // stored as 0xFFFFFFFF
  EXPECT_TRUE(v.add_bos);
  EXPECT_FALSE(v.add_eos);
  EXPECT_TRUE(v.add_space_prefix);
  EXPECT_EQ(v.tokens[3], "<0x00>");
  EXPECT_EQ(v.token_types[3], TokenType::kByte);

  // The mapping outlives the GgufFile: tensor bytes are still readable and
  // equal the llama2.c .bin (token_embedding at byte 28).
  std::vector<uint8_t> bin = read_all(testing::shared_path("models/stories260K/stories260K.bin"));
  const TensorInfo& embd = c.tensor("token_embd.weight");
  ASSERT_EQ(embd.nbytes, 512u * 64 * 4);
  EXPECT_EQ(std::memcmp(embd.data, bin.data() + 28, embd.nbytes), 0);
  EXPECT_FALSE(c.keep_alive.empty());
}

TEST(LoadGguf, ThroughLoadCheckpoint) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint c = load_checkpoint(testing::shared_path("models/stories260K/stories260K.gguf"));
  EXPECT_EQ(c.format, "gguf");
  EXPECT_EQ(c.config.n_layers, 5);
}

TEST(LoadGguf, LlamaTinyRandomF16) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint c = load_gguf_checkpoint(testing::shared_path("models/llama-2-tiny-random/llama-2-tiny-random.gguf"));
  EXPECT_EQ(c.config.dim, 8);
  EXPECT_EQ(c.config.hidden_dim, 32);
  EXPECT_EQ(c.config.n_layers, 1);
  EXPECT_EQ(c.config.n_heads, 2);
  EXPECT_EQ(c.config.n_kv_heads, 2);
  EXPECT_EQ(c.config.head_dim, 4);
  EXPECT_EQ(c.config.vocab_size, 32000);  // from token_embd rows: no llama.vocab_size key
  EXPECT_EQ(c.config.context_length, 4096);
  EXPECT_FALSE(c.config.tied_embeddings);
  EXPECT_EQ(c.tensor("blk.0.attn_q.weight").dtype, DType::F16);
  EXPECT_EQ(c.tensor("output_norm.weight").dtype, DType::F32);
  EXPECT_EQ(c.parameter_count(), 513048);
  EXPECT_NO_THROW(validate_checkpoint(c));
  ASSERT_TRUE(c.vocab.has_value());
  EXPECT_EQ(c.vocab->size(), 32000);
  EXPECT_EQ(c.vocab->tokens[29871], "\xe2\x96\x81");  // "▁" in the Llama-2 vocabulary
}

TEST(VocabGguf, LlamaCppVocabFiles) {
  LMPACK_REQUIRE_SHARED();
  auto vocab = [](const char* name) {
    return vocab_from_gguf(read_gguf(testing::shared_path(std::string("data/llamacpp-vocab-tests/ggml-vocab-") + name + ".gguf")));
  };
  Vocab spm = vocab("llama-spm");
  EXPECT_EQ(spm.model, "llama");
  EXPECT_EQ(spm.pre, "default");
  EXPECT_EQ(spm.size(), 32000);
  EXPECT_EQ(spm.scores.size(), 32000u);
  EXPECT_TRUE(spm.merges.empty());
  EXPECT_TRUE(spm.add_bos);
  EXPECT_TRUE(spm.add_space_prefix);
  EXPECT_EQ(spm.bos_id, 1);

  Vocab gpt2 = vocab("gpt-2");
  EXPECT_EQ(gpt2.model, "gpt2");
  EXPECT_EQ(gpt2.pre, "gpt-2");
  EXPECT_EQ(gpt2.size(), 50257);
  EXPECT_TRUE(gpt2.scores.empty());
  EXPECT_EQ(gpt2.merges.size(), 50000u);
  EXPECT_FALSE(gpt2.add_bos);  // default for gpt2 vocabularies
  EXPECT_FALSE(gpt2.add_space_prefix);
  EXPECT_EQ(gpt2.bos_id, 50256);
  EXPECT_EQ(gpt2.unk_id, -1);

  Vocab deepseek = vocab("deepseek-coder");
  EXPECT_TRUE(deepseek.add_bos);  // the file says so
  EXPECT_EQ(deepseek.bos_id, 32013);
  EXPECT_EQ(deepseek.pad_id, 32014);

  Vocab phi3 = vocab("phi-3");
  EXPECT_EQ(phi3.eos_id, 32000);
  EXPECT_EQ(phi3.size(), 32064);

  EXPECT_EQ(vocab("bert-bge").model, "bert");
  EXPECT_EQ(vocab("falcon").merges.size(), 64784u);
}

// ---- synthetic models ----

// A one-layer model with dim 8, 2 heads, FFN 16, vocab 4; tensors zero.
TestGgufWriter tiny(const std::string& arch, bool with_output = true, bool with_tokens = true) {
  TestGgufWriter w;
  w.kv_str("general.architecture", arch);
  w.kv_u32(arch + ".context_length", 64);
  w.kv_u32(arch + ".embedding_length", 8);
  w.kv_u32(arch + ".feed_forward_length", 16);
  w.kv_u32(arch + ".block_count", 1);
  w.kv_u32(arch + ".attention.head_count", 2);
  w.kv_f32(arch + ".attention.layer_norm_rms_epsilon", 1e-6f);
  if (with_tokens) {
    w.kv_str("tokenizer.ggml.model", "llama");
    w.kv_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
    w.kv_f32s("tokenizer.ggml.scores", {0, 0, 0, -1});
    w.kv_i32s("tokenizer.ggml.token_type", {2, 3, 3, 1});
  }
  auto t = [&](const std::string& name, std::vector<uint64_t> ne) {
    uint64_t n = 1;
    for (uint64_t d : ne) n *= d;
    w.tensor(name, ne, 0, Bytes(n * 4, '\0'));
  };
  t("token_embd.weight", {8, 4});
  t("output_norm.weight", {8});
  if (with_output) t("output.weight", {8, 4});
  for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output"}) t(std::string("blk.0.") + m + ".weight", {8, 8});
  if (arch == "qwen2")
    for (const char* m : {"attn_q", "attn_k", "attn_v"}) t(std::string("blk.0.") + m + ".bias", {8});
  t("blk.0.attn_norm.weight", {8});
  t("blk.0.ffn_norm.weight", {8});
  t("blk.0.ffn_gate.weight", {8, 16});
  t("blk.0.ffn_up.weight", {8, 16});
  t("blk.0.ffn_down.weight", {16, 8});
  return w;
}

Checkpoint load_bytes(const std::vector<uint8_t>& b) { return checkpoint_from_gguf(parse_gguf(b.data(), b.size(), "m.gguf")); }

void expect_load_error(const std::vector<uint8_t>& b, const std::string& message) {
  try {
    load_bytes(b);
    ADD_FAILURE() << "no error; expected: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(LoadGguf, DefaultsAndTiedEmbeddings) {
  std::vector<uint8_t> b = tiny("llama", /*with_output=*/false).vec();
  Checkpoint c = load_bytes(b);
  EXPECT_EQ(c.config.n_kv_heads, 2);      // defaults to head_count
  EXPECT_EQ(c.config.head_dim, 4);        // dim / heads
  EXPECT_EQ(c.config.rope_theta, 10000.0f);
  EXPECT_FLOAT_EQ(c.config.rms_eps, 1e-6f);
  EXPECT_EQ(c.config.vocab_size, 4);      // token_embd rows
  EXPECT_TRUE(c.config.tied_embeddings);
  EXPECT_TRUE(c.keep_alive.empty());      // parsed from memory: nothing to keep
  EXPECT_NO_THROW(validate_checkpoint(c));
  ASSERT_TRUE(c.vocab);
  EXPECT_EQ(c.vocab->token_types[0], TokenType::kUnknown);
  EXPECT_EQ(c.vocab->bos_id, -1);
}

TEST(LoadGguf, Qwen2KeysBiasesAndRopeFreqs) {
  TestGgufWriter w = tiny("qwen2");
  w.kv_u32("qwen2.attention.head_count_kv", 1);
  w.kv_u32("qwen2.attention.key_length", 4);
  w.kv_f32("qwen2.rope.freq_base", 1000000.0f);
  w.kv_u32("qwen2.vocab_size", 4);
  w.kv_u32("qwen2.rope.dimension_count", 4);
  w.tensor("rope_freqs.weight", {2}, 0, Bytes(8, '\0'));
  std::vector<uint8_t> b = w.vec();
  Checkpoint c = load_bytes(b);
  EXPECT_EQ(c.config.architecture, "qwen2");
  EXPECT_TRUE(c.config.attn_qkv_bias);
  EXPECT_EQ(c.config.n_kv_heads, 1);
  EXPECT_EQ(c.config.rope_theta, 1000000.0f);
  EXPECT_NE(c.find("blk.0.attn_k.bias"), nullptr);
  EXPECT_NE(c.find("rope_freqs.weight"), nullptr);
  EXPECT_FALSE(c.config.tied_embeddings);
  // k/v are {kv_dim = 4, dim} for one KV head, so the {8, 8} ones in tiny() mismatch.
  EXPECT_THROW(validate_checkpoint(c), Error);
}

TEST(LoadGguf, ConfigErrors) {
  expect_load_error(tiny("gpt2").vec(), "m.gguf: unsupported architecture 'gpt2' (supported: llama, qwen2, qwen3, "
                                        "gemma2, gemma3, phi3, smollm3, qwen3moe)");
  // phi3's ffn_up holds gate and up: 2 x 16 rows.
  expect_load_error(tiny("phi3").vec(), "m.gguf: tensor blk.0.ffn_gate_up.weight has shape [16, 8]; expected 32 rows "
                                        "(gate, up stacked)");
  {
    TestGgufWriter w;
    w.kv_str("general.architecture", "llama");
    w.kv_u32("llama.context_length", 64);
    expect_load_error(w.vec(), "m.gguf: metadata key llama.embedding_length is missing");
  }
  {
    TestGgufWriter w = tiny("llama");
    w.kv_u32("llama.rope.dimension_count", 2);
    expect_load_error(w.vec(), "m.gguf: llama.rope.dimension_count 2 differs from the head dimension 4 (partial "
                               "RoPE is read for phi3 only)");
  }
  {
    TestGgufWriter w = tiny("llama");
    w.kv_str("llama.rope.scaling.type", "yarn");
    EXPECT_THROW(load_bytes(w.vec()), Error);
  }
  {
    TestGgufWriter w = tiny("llama");
    w.kv_u32("llama.attention.head_count_kv", 0);
    expect_load_error(w.vec(), "m.gguf: metadata key llama.attention.head_count_kv is 0, must be positive");
  }
  {
    TestGgufWriter w;
    w.kv_u32("general.alignment", 32);
    expect_load_error(w.vec(), "m.gguf: metadata key general.architecture is missing");
  }
}

TEST(VocabGguf, Errors) {
  auto base = [](TestGgufWriter& w) { w.kv_str("tokenizer.ggml.model", "llama"); };
  {
    TestGgufWriter w;
    base(w);
    w.kv_strings("tokenizer.ggml.tokens", {"a", "b"});
    w.kv_f32s("tokenizer.ggml.scores", {1.0f});
    std::vector<uint8_t> b = w.vec();
    try {
      vocab_from_gguf(parse_gguf(b.data(), b.size(), "v.gguf"));
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "v.gguf: metadata key tokenizer.ggml.scores has 1 entries but tokenizer.ggml.tokens has 2");
    }
  }
  {
    TestGgufWriter w;
    base(w);
    w.kv_strings("tokenizer.ggml.tokens", {"a", "b"});
    w.kv_i32s("tokenizer.ggml.token_type", {1, 9});
    std::vector<uint8_t> b = w.vec();
    EXPECT_THROW(vocab_from_gguf(parse_gguf(b.data(), b.size(), "v.gguf")), Error);
  }
  {
    TestGgufWriter w;
    base(w);
    w.kv_strings("tokenizer.ggml.tokens", {"a", "b"});
    w.kv_u32("tokenizer.ggml.eos_token_id", 7);
    std::vector<uint8_t> b = w.vec();
    try {
      vocab_from_gguf(parse_gguf(b.data(), b.size(), "v.gguf"));
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "v.gguf: metadata key tokenizer.ggml.eos_token_id is 7, outside the vocabulary of 2 tokens");
    }
  }
  {
    TestGgufWriter w;
    w.kv_str("tokenizer.ggml.model", "gpt2");
    w.kv_strings("tokenizer.ggml.tokens", {"a", "b"});
    w.kv_bool("tokenizer.ggml.add_bos_token", true);
    w.kv_bool("tokenizer.ggml.add_space_prefix", true);
    std::vector<uint8_t> b = w.vec();
    Vocab v = vocab_from_gguf(parse_gguf(b.data(), b.size(), "v.gguf"));
    EXPECT_TRUE(v.add_bos);
    EXPECT_TRUE(v.add_space_prefix);
    EXPECT_EQ(v.pre, "default");
  }
}

// Flipped bytes through the whole loader: parse, config, vocab and shape
// validation either succeed or throw lmpack::Error.
TEST(LoadGgufRobustness, RandomByteFlips) {
  LMPACK_REQUIRE_SHARED();
  const std::vector<uint8_t> full = read_all(testing::shared_path("models/stories260K/stories260K.gguf"));
  const size_t header_end = parse_gguf(full.data(), full.size(), "full.gguf").data_offset;
  std::mt19937_64 rng(777);
  int loaded = 0, rejected = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<uint8_t> b = full;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      const size_t pos = rng() % 10 < 9 ? rng() % header_end : rng() % b.size();
      b[pos] = rng() % 2 ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(b[pos] ^ (1u << (rng() % 8)));
    }
    try {
      Checkpoint c = checkpoint_from_gguf(parse_gguf(b.data(), b.size(), "fuzz.gguf"));
      validate_checkpoint(c);
      ++loaded;
    } catch (const Error& e) {
      ASSERT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      ++rejected;
    } catch (const std::exception& e) {
      FAIL() << "trial " << trial << ": non-lmpack exception: " << e.what();
    }
  }
  EXPECT_GT(loaded, 20);
  EXPECT_GT(rejected, 20);
}

TEST(LoadGgufRobustness, TruncationsAreErrors) {
  LMPACK_REQUIRE_SHARED();
  const std::vector<uint8_t> full = read_all(testing::shared_path("models/stories260K/stories260K.gguf"));
  for (size_t k = 0; k < 300; ++k) {
    const size_t n = k < 100 ? k * 37 : full.size() * (k - 100) / 200;
    std::vector<uint8_t> cut(full.begin(), full.begin() + n);
    EXPECT_THROW(checkpoint_from_gguf(parse_gguf(cut.data(), cut.size(), "cut.gguf")), Error) << n;
  }
}

}  // namespace
}  // namespace lmpack
