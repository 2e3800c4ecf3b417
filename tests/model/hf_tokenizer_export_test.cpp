// The tokenizer files of the Hugging Face folders lmpack writes
// (model/hf_tokenizer_export.h): a folder written from a GGUF carries a
// tokenizer.json that reads back as the GGUF's vocabulary; a folder written
// from such a folder copies its tokenizer files byte for byte (a chat template
// survives); a vocabulary changed on the way is written afresh.
#include "model/hf_tokenizer_export.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/checkpoint.h"
#include "model/save_hf.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void expect_same_vocab(const Vocab& a, const Vocab& b) {
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.bos_id, b.bos_id);
  EXPECT_EQ(a.eos_id, b.eos_id);
  EXPECT_EQ(a.add_bos, b.add_bos);
  const std::string text = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
  EXPECT_EQ(make_tokenizer(a, "a")->encode(text, true), make_tokenizer(b, "b")->encode(text, true));
}

TEST(HfTokenizerExport, AFolderFromAGgufCarriesItsVocabulary) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint gguf = load_checkpoint(testing::shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(gguf.vocab.has_value());
  const std::string out = testing::temp_dir() + "/hf_tokenizer_from_gguf";
  save_hf(gguf, out, DType::F32);
  for (const std::string& name : hf_tokenizer_file_names()) EXPECT_TRUE(fs::exists(out + "/" + name)) << name;
  const Checkpoint back = load_checkpoint(out);  // reads the folder's tokenizer.json
  ASSERT_TRUE(back.vocab.has_value());
  expect_same_vocab(*gguf.vocab, *back.vocab);
  const auto generation = nlohmann::json::parse(slurp(out + "/generation_config.json"));
  EXPECT_EQ(generation.at("bos_token_id"), gguf.vocab->bos_id);
  EXPECT_EQ(generation.at("eos_token_id"), gguf.vocab->eos_id);
}

TEST(HfTokenizerExport, AFolderFromAFolderCopiesItsFilesAndAChangedVocabularyIsWrittenAfresh) {
  LMPACK_REQUIRE_SHARED();
  const std::string first = testing::temp_dir() + "/hf_tokenizer_first";
  save_hf(load_checkpoint(testing::shared_path("models/stories260K/stories260K.gguf")), first, DType::F32);
  // What a published folder carries and lmpack does not write: a chat template.
  auto config = nlohmann::json::parse(slurp(first + "/tokenizer_config.json"));
  config["chat_template"] = "{{ messages[0]['content'] }}";
  std::ofstream(first + "/tokenizer_config.json") << config.dump(2);

  const Checkpoint source = load_checkpoint(first);
  const std::string second = testing::temp_dir() + "/hf_tokenizer_second";
  save_hf(source, second, DType::F16);
  for (const std::string& name : hf_tokenizer_file_names())
    EXPECT_EQ(slurp(second + "/" + name), slurp(first + "/" + name)) << name;

  Checkpoint changed = source;
  changed.vocab->add_bos = false;
  const std::string third = testing::temp_dir() + "/hf_tokenizer_third";
  save_hf(changed, third, DType::F16);
  const auto written = nlohmann::json::parse(slurp(third + "/tokenizer_config.json"));
  EXPECT_FALSE(written.contains("chat_template"));
  EXPECT_EQ(written.at("add_bos_token"), false);
  EXPECT_FALSE(load_checkpoint(third).vocab->add_bos);
}

TEST(HfTokenizerExport, NoVocabularyNoTokenizerFiles) {
  LMPACK_REQUIRE_SHARED();
  LoadOptions none;
  Checkpoint c = load_checkpoint(testing::shared_path("models/stories260K-hf"), none);
  c.vocab.reset();
  const std::string out = testing::temp_dir() + "/hf_tokenizer_none";
  save_hf(c, out, DType::F32);
  EXPECT_TRUE(fs::exists(out + "/config.json"));
  for (const std::string& name : hf_tokenizer_file_names()) EXPECT_FALSE(fs::exists(out + "/" + name)) << name;
}

}  // namespace
}  // namespace lmpack
