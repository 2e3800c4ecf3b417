// load_checkpoint: format detection, the llama2.c mapping onto canonical
// names, --tokenizer, and validate_checkpoint's messages.
#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>

#include "core/error.h"
#include "model/loaders.h"
#include "test_paths.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace {

std::string stories_bin() { return testing::shared_path("models/stories260K/stories260K.bin"); }

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

ModelConfig tiny_config() {
  ModelConfig c;
  c.dim = 64;
  c.hidden_dim = 172;
  c.n_layers = 5;
  c.n_heads = 8;
  c.n_kv_heads = 4;
  c.head_dim = 8;
  c.vocab_size = 512;
  c.context_length = 512;
  return c;
}

TEST(ModelConfig, LimitsNameTheFieldAndTheValue) {
  EXPECT_EQ(error_of([] { tiny_config().validate("m.gguf"); }), "(no error)");
  ModelConfig c = tiny_config();
  c.context_length = (int64_t{1} << 62) + 1;  // wrapped the RoPE tables' size (a heap overflow)
  EXPECT_EQ(error_of([&] { c.validate("m.gguf"); }),
            "m.gguf: context length 4611686018427387905 exceeds lmpack's limit of 16777216 (corrupt header?)");
  c.context_length = kMaxContextLength;  // the limit itself is a valid model
  EXPECT_EQ(error_of([&] { c.validate("m.gguf"); }), "(no error)");
  c = tiny_config();
  c.n_layers = 100000;
  EXPECT_EQ(error_of([&] { c.validate("m"); }), "m: layer count 100000 exceeds lmpack's limit of 4096 (corrupt header?)");
  c = tiny_config();
  c.vocab_size = -3;
  EXPECT_EQ(error_of([&] { c.validate("m"); }), "m: vocabulary size must be positive, got -3");
  c = tiny_config();
  c.rope_theta = INFINITY;
  EXPECT_NE(error_of([&] { c.validate("m"); }).find("rope_theta must be positive"), std::string::npos);
}

TEST(Checkpoint, VocabularyMustBelongToTheEmbedding) {
  Vocab v;
  v.tokens.assign(151665, "x");  // Qwen2.5: 151665 tokens, embedding padded to 151936 rows
  EXPECT_EQ(error_of([&] { check_vocab_fits(v, 151936, "q"); }), "(no error)");
  v.tokens.assign(10, "x");
  EXPECT_EQ(error_of([&] { check_vocab_fits(v, 512, "m.gguf"); }),
            "m.gguf: vocabulary has 10 tokens but token_embd.weight has 512 rows: not this model's tokenizer? "
            "(padding of at most 1/32 of the rows is accepted)");
  v.tokens.assign(513, "x");
  EXPECT_NE(error_of([&] { check_vocab_fits(v, 512, "m"); }).find("has only 512 rows"), std::string::npos);
}

TEST(Checkpoint, Llama2cMapsOntoCanonicalNames) {
  LMPACK_REQUIRE_SHARED();
  Checkpoint c = load_checkpoint(stories_bin());
  EXPECT_EQ(c.format, "llama2c");
  EXPECT_EQ(c.path, stories_bin());
  const ModelConfig& cfg = c.config;
  EXPECT_EQ(cfg.architecture, "llama");
  EXPECT_EQ(cfg.dim, 64);
  EXPECT_EQ(cfg.hidden_dim, 172);
  EXPECT_EQ(cfg.n_layers, 5);
  EXPECT_EQ(cfg.n_heads, 8);
  EXPECT_EQ(cfg.n_kv_heads, 4);
  EXPECT_EQ(cfg.head_dim, 8);
  EXPECT_EQ(cfg.vocab_size, 512);
  EXPECT_EQ(cfg.context_length, 512);
  EXPECT_FLOAT_EQ(cfg.rms_eps, 1e-5f);
  EXPECT_FLOAT_EQ(cfg.rope_theta, 10000.0f);
  EXPECT_TRUE(cfg.tied_embeddings);
  EXPECT_FALSE(c.vocab.has_value());  // no tokenizer.bin beside it
  EXPECT_EQ(c.parameter_count(), 260032);
  EXPECT_EQ(c.tensor_bytes(), 260032u * 4);
  EXPECT_EQ(c.tensors.size(), 2u + 9 * 5);
  EXPECT_EQ(c.find("output.weight"), nullptr);
  EXPECT_EQ(c.tensor("blk.4.ffn_down.weight").shape, (std::vector<int64_t>{64, 172}));
  // Layer slices follow each other inside the stacked array.
  EXPECT_EQ(c.tensor("blk.1.attn_k.weight").data, c.tensor("blk.0.attn_k.weight").data + 32 * 64 * 4);
  EXPECT_EQ(error_of([&] { c.tensor("blk.5.attn_q.weight"); }),
            stories_bin() + ": missing tensor blk.5.attn_q.weight");
}

TEST(Checkpoint, TokenizerOptionAttachesVocab) {
  LMPACK_REQUIRE_SHARED();
  LoadOptions options;
  options.tokenizer_path = testing::shared_path("models/stories260K/tok512.bin");
  Checkpoint c = load_checkpoint(stories_bin(), options);
  ASSERT_TRUE(c.vocab.has_value());
  EXPECT_EQ(c.vocab->size(), 512);
  EXPECT_EQ(load_vocab(options.tokenizer_path).size(), 512);
}

TEST(Checkpoint, TokenizerBinBesideTheModelIsFound) {
  LMPACK_REQUIRE_SHARED();
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::temp_dir()) / "beside";
  fs::create_directories(dir);
  fs::copy_file(stories_bin(), dir / "model.bin", fs::copy_options::overwrite_existing);
  fs::copy_file(testing::shared_path("models/stories260K/tok512.bin"), dir / "tokenizer.bin",
                fs::copy_options::overwrite_existing);
  Checkpoint c = load_checkpoint((dir / "model.bin").string());
  ASSERT_TRUE(c.vocab.has_value());
  EXPECT_EQ(c.vocab->size(), 512);
}

TEST(Checkpoint, ValidateNamesMissingAndMisshapedTensors) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint loaded = load_checkpoint(stories_bin());
  validate_checkpoint(loaded);

  Checkpoint missing = loaded;
  missing.tensors.erase("blk.3.ffn_up.weight");
  EXPECT_EQ(error_of([&] { validate_checkpoint(missing); }), stories_bin() + ": missing tensor blk.3.ffn_up.weight");

  Checkpoint wrong = loaded;
  TensorInfo& q = wrong.tensors.at("blk.0.attn_q.weight");
  q.shape = {64, 32};
  q.nbytes = 64 * 32 * 4;
  EXPECT_EQ(error_of([&] { validate_checkpoint(wrong); }),
            stories_bin() + ": tensor blk.0.attn_q.weight has shape [64, 32], expected [64, 64]");

  Checkpoint short_bytes = loaded;
  short_bytes.tensors.at("output_norm.weight").nbytes = 100;
  EXPECT_NE(error_of([&] { validate_checkpoint(short_bytes); }).find("output_norm.weight holds 100 bytes, expected 256"),
            std::string::npos);

  Checkpoint untied = loaded;
  untied.config.tied_embeddings = false;
  EXPECT_EQ(error_of([&] { validate_checkpoint(untied); }), stories_bin() + ": missing tensor output.weight");

  Checkpoint qwen = loaded;
  qwen.config.attn_qkv_bias = true;
  EXPECT_EQ(error_of([&] { validate_checkpoint(qwen); }), stories_bin() + ": missing tensor blk.0.attn_q.bias");

  Checkpoint big_vocab = loaded;
  big_vocab.vocab = Vocab{};
  big_vocab.vocab->tokens.resize(513, "x");
  EXPECT_EQ(error_of([&] { validate_checkpoint(big_vocab); }),
            stories_bin() + ": vocabulary has 513 tokens but token_embd.weight has only 512 rows");
  big_vocab.vocab->tokens.resize(500);  // fewer tokens than rows (padded embedding) is fine
  validate_checkpoint(big_vocab);

  Checkpoint bad_config = loaded;
  bad_config.config.n_kv_heads = 3;
  EXPECT_NE(error_of([&] { validate_checkpoint(bad_config); }).find("not a multiple of KV head count 3"),
            std::string::npos);
}

TEST(Checkpoint, NonexistentPathAndDirectoryWithoutConfig) {
  const std::string nowhere = testing::temp_dir() + "/no/such/model.bin";
  EXPECT_EQ(error_of([&] { load_checkpoint(nowhere); }), nowhere + ": no such file or directory");
  EXPECT_EQ(error_of([&] { load_vocab(nowhere); }), nowhere + ": no such file or directory");
  const std::string dir = testing::temp_dir() + "/empty_model_dir";
  std::filesystem::create_directories(dir);
  EXPECT_EQ(error_of([&] { load_checkpoint(dir); }),
            dir + ": is a directory without config.json (expected a Hugging Face checkpoint folder)");
  EXPECT_EQ(error_of([&] { load_vocab(dir); }), dir + ": is a directory without tokenizer.json");
}

TEST(Checkpoint, GarbageFileIsRejected) {
  const std::string path = testing::temp_dir() + "/garbage.bin";
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fputs("this is not a model at all, just some text long enough", f);
  std::fclose(f);
  EXPECT_THROW(load_checkpoint(path), Error);
}

TEST(Checkpoint, GgufIsDetectedAndMatchesTheBin) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint bin = load_checkpoint(stories_bin());
  const Checkpoint gguf = load_checkpoint(testing::shared_path("models/stories260K/stories260K.gguf"));
  EXPECT_EQ(gguf.format, "gguf");
  ASSERT_TRUE(gguf.vocab.has_value());
  EXPECT_EQ(gguf.vocab->size(), 512);
  // Every tensor of the .bin is bit-identical in the GGUF (DATA.md).
  for (const auto& [name, t] : bin.tensors) {
    const TensorInfo* g = gguf.find(name);
    ASSERT_NE(g, nullptr) << name;
    ASSERT_EQ(g->shape, t.shape) << name;
    ASSERT_EQ(g->dtype, DType::F32) << name;
    EXPECT_EQ(std::memcmp(g->data, t.data, t.nbytes), 0) << name;
  }
}

}  // namespace
}  // namespace lmpack
