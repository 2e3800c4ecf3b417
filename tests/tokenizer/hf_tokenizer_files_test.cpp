// tokenizer.json written from a vocabulary (tokenizer/hf_tokenizer_files.h)
// must tokenize as the vocabulary does: read back by lmpack's tokenizer.json
// reader, it passes llama.cpp's test vectors for the vocabulary (Llama 2 SPM,
// Phi-3 SPM, GPT-2 byte-level, Falcon byte-level) and gives the same ids as
// the original on the whole TinyStories evaluation text; BOS/EOS and
// add_bos survive through tokenizer_config.json.
#include "tokenizer/hf_tokenizer_files.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_paths.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_readers.h"
#include "tokenizer_test_util.h"

namespace lmpack {
namespace {

using testing::check_vectors;
using testing::gguf_vocab;
using testing::read_vocab_vectors;

Vocab written_and_read_back(const Vocab& v, HfTokenizerFiles* files_out = nullptr) {
  const HfTokenizerFiles files = hf_tokenizer_files(v, 4096, "test");
  const TokenizerConfigText config{files.tokenizer_config_json, "tokenizer_config.json"};
  if (files_out != nullptr) *files_out = files;
  return parse_tokenizer_json_vocab(files.tokenizer_json, "tokenizer.json", &config);
}

void expect_same_ids_on_the_evaluation_text(const Vocab& original, const Vocab& back) {
  const std::string text =
      testing::read_text_file(testing::shared_path("data/tinystories-valid/tinystories_valid_first1000.txt"));
  const auto a = make_tokenizer(original, "original")->encode(text, /*add_bos=*/true);
  const auto b = make_tokenizer(back, "back")->encode(text, /*add_bos=*/true);
  EXPECT_GT(a.size(), 100000u);
  EXPECT_EQ(a, b);
}

void expect_same_specials(const Vocab& a, const Vocab& b) {
  EXPECT_EQ(a.size(), b.size());
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.bos_id, b.bos_id);
  EXPECT_EQ(a.eos_id, b.eos_id);
  EXPECT_EQ(a.add_bos, b.add_bos);
  EXPECT_EQ(a.add_eos, b.add_eos);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.pre, b.pre);
}

TEST(HfTokenizerFiles, SentencePieceVocabulariesPassTheVectorsAfterTheTrip) {
  LMPACK_REQUIRE_SHARED();
  for (const char* name : {"llama-spm", "phi-3"}) {
    SCOPED_TRACE(name);
    const Vocab v = gguf_vocab(name);
    HfTokenizerFiles files;
    const Vocab back = written_and_read_back(v, &files);
    expect_same_specials(v, back);
    const auto vectors = read_vocab_vectors(name);
    EXPECT_EQ(check_vectors(*make_tokenizer(back, name), vectors, name), static_cast<int>(vectors.texts.size()));
    expect_same_ids_on_the_evaluation_text(v, back);
    // The shape transformers reads: BPE with byte fallback, "▁" spaces.
    const nlohmann::json j = nlohmann::json::parse(files.tokenizer_json);
    EXPECT_EQ(j["model"]["type"], "BPE");
    EXPECT_EQ(j["model"]["byte_fallback"], true);
    EXPECT_EQ(j["model"]["unk_token"], "<unk>");
    EXPECT_GT(j["model"]["merges"].size(), 10000u);
    EXPECT_EQ(j["post_processor"]["single"][0]["SpecialToken"]["id"], "<s>");
    const nlohmann::json config = nlohmann::json::parse(files.tokenizer_config_json);
    EXPECT_EQ(config["bos_token"], "<s>");
    EXPECT_EQ(config["add_bos_token"], true);
    EXPECT_EQ(config["model_max_length"], 4096);
    EXPECT_EQ(config["tokenizer_class"], "PreTrainedTokenizerFast");
  }
}

TEST(HfTokenizerFiles, ByteLevelVocabulariesPassTheVectorsAfterTheTrip) {
  LMPACK_REQUIRE_SHARED();
  for (const char* name : {"gpt-2", "falcon"}) {
    SCOPED_TRACE(name);
    const Vocab v = gguf_vocab(name);
    if (hf_pattern_for_pre_tokenizer(v.pre).empty()) {
      // Falcon's three regexes have no single Split spelling: refused by name.
      try {
        hf_tokenizer_files(v, 2048, "falcon.gguf");
        ADD_FAILURE() << "a pre-tokenizer without a tokenizer.json spelling was written";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("falcon.gguf: the vocabulary's pre-tokenizer 'falcon' has no "
                                             "tokenizer.json spelling"),
                  std::string::npos)
            << e.what();
      }
      continue;
    }
    const Vocab back = written_and_read_back(v);
    expect_same_specials(v, back);
    EXPECT_EQ(back.merges, v.merges);
    const auto vectors = read_vocab_vectors(name);
    EXPECT_EQ(check_vectors(*make_tokenizer(back, name), vectors, name), static_cast<int>(vectors.texts.size()));
    expect_same_ids_on_the_evaluation_text(v, back);
  }
}

// stories260K's llama2.c tokenizer (the vocabulary of every model in
// ../shared but the random Llama 2): the same ids on the whole evaluation text.
TEST(HfTokenizerFiles, Tok512GivesTheSameIds) {
  LMPACK_REQUIRE_SHARED();
  const Vocab v = load_vocab(testing::shared_path("models/stories260K/tok512.bin"));
  const Vocab back = written_and_read_back(v);
  expect_same_specials(v, back);
  expect_same_ids_on_the_evaluation_text(v, back);
}

TEST(HfTokenizerFiles, AddedEosAndNoBosSurvive) {
  LMPACK_REQUIRE_SHARED();
  Vocab v = gguf_vocab("llama-spm");
  v.add_bos = false;
  v.add_eos = true;
  const Vocab back = written_and_read_back(v);
  EXPECT_FALSE(back.add_bos);
  EXPECT_TRUE(back.add_eos);
  EXPECT_EQ(make_tokenizer(back, "back")->encode("Hello", /*add_bos=*/false),
            make_tokenizer(v, "v")->encode("Hello", /*add_bos=*/false));
}

TEST(HfTokenizerFiles, APieceSpelledTwiceIsRefusedByName) {
  Vocab v;
  v.tokens = {"<unk>", "<s>", "a", "a"};
  v.scores = {0, 0, -1, -2};
  v.token_types = {TokenType::kUnknown, TokenType::kControl, TokenType::kNormal, TokenType::kNormal};
  try {
    hf_tokenizer_files(v, 16, "m.gguf");
    FAIL() << "a duplicate piece was written";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "m.gguf: tokens 2 and 3 are both 'a'; a tokenizer.json vocabulary cannot hold a piece twice");
  }
}

}  // namespace
}  // namespace lmpack
