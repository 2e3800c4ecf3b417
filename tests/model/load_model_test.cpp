// A job's model and vocabulary (model/load_model.h): a missing `tokenizer`
// is named as the field before the model is read, a model without a
// vocabulary asks for `tokenizer`, a vocabulary comes from a GGUF without its
// tensors, and the warning for a length beyond the trained context.
#include "model/load_model.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "test_paths.h"

namespace lmpack {
namespace {

TEST(LoadModel, MissingTokenizerIsTheFieldNotTheModel) {
  const std::string model = testing::temp_dir() + "/load-model-not-a-model.bin";
  std::ofstream(model) << "not a model";
  const std::string tok = testing::temp_dir() + "/no-such-tokenizer.bin";
  try {
    load_model(model, tok);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "tokenizer");
    EXPECT_EQ(e.problem(), tok + ": no such file or directory");
  }
  try {
    load_vocab_for(model, tok);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "tokenizer");
  }
}

TEST(LoadModel, MissingModelIsNamedByItsPath) {
  const std::string model = testing::temp_dir() + "/no-such-model.gguf";
  try {
    load_model(model, "");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), model);
    EXPECT_EQ(e.problem(), "no such file or directory");
  }
}

TEST(LoadModel, ModelWithoutVocabularyAsksForTheTokenizerField) {
  Checkpoint c;
  c.path = "m.bin";
  try {
    tokenizer_for(c);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "m.bin");
    EXPECT_NE(e.problem().find("pass `tokenizer`"), std::string::npos) << e.problem();
  }
}

TEST(LoadModel, VocabularyAndTokenizerOfStories260K) {
  LMPACK_REQUIRE_SHARED();
  const std::string gguf = testing::shared_path("models/stories260K/stories260K.gguf");
  EXPECT_EQ(load_vocab_for(gguf, "").size(), 512);
  const Checkpoint c = load_model(gguf, "");
  EXPECT_FALSE(tokenizer_for(c)->encode("Once upon a time", true).empty());
}

TEST(LoadModel, BeyondContextWarningNamesTheField) {
  Checkpoint c;
  c.path = "m.gguf";
  c.config.context_length = 512;
  EXPECT_EQ(beyond_context_warning("ctx", 512, c), "");
  EXPECT_EQ(beyond_context_warning("ctx", 1024, c),
            "`ctx` 1024 exceeds the model's context of 512 tokens (m.gguf); positions past it are extrapolated");
}

}  // namespace
}  // namespace lmpack
