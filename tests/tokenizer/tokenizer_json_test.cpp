// HF tokenizer.json: files written here from the llama.cpp GGUF vocabularies
// (byte-level GPT-2, and SentencePiece-style Llama with merges derived the
// way transformers' converter derives them from scores) must load into
// vocabularies that pass the same llama.cpp test vectors; malformed files
// must fail naming the file and the key.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/tokenizer_test_util.h"
#include "tokenizer/tokenizer_text.h"

namespace lmpack {
namespace {

using Json = nlohmann::json;
using testing::check_vectors;
using testing::gguf_vocab;
using testing::read_vocab_vectors;

constexpr const char* kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";

std::string write_json(const std::string& dir_name, const std::string& file, const Json& json) {
  std::filesystem::path dir = std::filesystem::path(testing::temp_dir()) / dir_name;
  std::filesystem::create_directories(dir);
  std::string path = (dir / file).string();
  std::ofstream(path, std::ios::binary) << json.dump();
  return path;
}

// model.vocab holds the normal tokens, added_tokens the others.
Json base_json(const Vocab& v, Json merges) {
  Json vocab = Json::object();
  Json added = Json::array();
  for (int64_t id = 0; id < v.size(); ++id) {
    TokenType type = v.token_types.empty() ? TokenType::kNormal : v.token_types[id];
    if (type == TokenType::kControl || type == TokenType::kUnknown || type == TokenType::kUserDefined) {
      added.push_back({{"id", id}, {"content", v.tokens[id]}, {"special", type != TokenType::kUserDefined},
                       {"single_word", false}, {"lstrip", false}, {"rstrip", false}, {"normalized", false}});
      if (type == TokenType::kUnknown) vocab[v.tokens[id]] = id;
    } else {
      vocab[v.tokens[id]] = id;
    }
  }
  Json j;
  j["version"] = "1.0";
  j["added_tokens"] = added;
  j["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"vocab", vocab}, {"merges", merges}};
  return j;
}

Json gpt2_json(const Vocab& v, bool split_regex) {
  Json merges = Json::array();
  for (const std::string& m : v.merges) {
    if (split_regex) {  // the newer [a, b] form
      size_t space = m.find(' ', 1);
      merges.push_back(Json::array({m.substr(0, space), m.substr(space + 1)}));
    } else {
      merges.push_back(m);
    }
  }
  Json j = base_json(v, merges);
  Json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                     {"use_regex", !split_regex}};
  if (split_regex) {
    j["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "Split"}, {"pattern", {{"Regex", kGpt2Regex}}}, {"behavior", "Isolated"},
                             {"invert", false}},
                            byte_level}}};
  } else {
    j["pre_tokenizer"] = byte_level;
  }
  j["decoder"] = {{"type", "ByteLevel"}};
  j["post_processor"] = {{"type", "ByteLevel"}};
  return j;
}

// transformers' SentencePiece converter: every split of a piece into two
// pieces is a merge, ordered by the merged piece's score (best first).
Json spm_merges(const Vocab& v, bool pair_form) {
  std::unordered_map<std::string, int32_t> ids;
  for (int64_t id = 0; id < v.size(); ++id)
    if (v.token_types[id] == TokenType::kNormal) ids.emplace(v.tokens[id], static_cast<int32_t>(id));
  struct Merge {
    int32_t result, left, right;
  };
  std::vector<Merge> merges;
  for (const auto& [piece, id] : ids) {
    size_t pos = 0;
    for (std::string_view c : utf8_chars(piece)) {
      pos += c.size();
      if (pos == piece.size()) break;
      auto l = ids.find(piece.substr(0, pos));
      auto r = ids.find(piece.substr(pos));
      if (l != ids.end() && r != ids.end()) merges.push_back({id, l->second, r->second});
    }
  }
  std::sort(merges.begin(), merges.end(), [&](const Merge& a, const Merge& b) {
    if (v.scores[a.result] != v.scores[b.result]) return v.scores[a.result] > v.scores[b.result];
    return std::tie(a.result, a.left, a.right) < std::tie(b.result, b.left, b.right);
  });
  Json out = Json::array();
  for (const Merge& m : merges) {
    if (pair_form) {
      out.push_back(Json::array({v.tokens[m.left], v.tokens[m.right]}));
    } else {
      out.push_back(v.tokens[m.left] + " " + v.tokens[m.right]);
    }
  }
  return out;
}

Json spm_json(const Vocab& v, bool metaspace) {
  Json j = base_json(v, spm_merges(v, metaspace));
  j["model"]["unk_token"] = "<unk>";
  j["model"]["byte_fallback"] = true;
  j["model"]["fuse_unk"] = true;
  if (metaspace) {
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}};
  } else {
    j["normalizer"] = {{"type", "Sequence"},
                       {"normalizers",
                        {{{"type", "Prepend"}, {"prepend", "▁"}},
                         {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}}}};
    j["pre_tokenizer"] = nullptr;
  }
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                     {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}}};
  return j;
}

void expect_same_tokens(const Vocab& a, const Vocab& b) {
  ASSERT_EQ(a.size(), b.size());
  for (int64_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.tokens[i], b.tokens[i]) << "token " << i;
}

TEST(TokenizerJson, ByteLevelGpt2PassesTheVectors) {
  LMPACK_REQUIRE_SHARED();
  Vocab gguf = gguf_vocab("gpt-2");
  auto vectors = read_vocab_vectors("gpt-2");
  for (bool split : {false, true}) {
    SCOPED_TRACE(split ? "Split regex + ByteLevel, [a, b] merges" : "ByteLevel alone, \"a b\" merges");
    std::string dir = split ? "gpt2_split" : "gpt2_plain";
    std::string path = write_json(dir, "tokenizer.json", gpt2_json(gguf, split));
    if (split)
      write_json(dir, "tokenizer_config.json",
                 {{"bos_token", {{"content", "<|endoftext|>"}, {"lstrip", false}}}, {"eos_token", "<|endoftext|>"},
                  {"add_bos_token", true}});
    Vocab v = load_tokenizer_json_vocab(path);
    EXPECT_EQ(v.model, "gpt2");
    EXPECT_EQ(v.pre, "gpt-2");
    expect_same_tokens(v, gguf);
    EXPECT_EQ(v.merges, gguf.merges);
    EXPECT_EQ(v.token_types[50256], TokenType::kControl);
    EXPECT_EQ(v.bos_id, split ? 50256 : -1);
    EXPECT_EQ(v.add_bos, split);
    auto tok = make_tokenizer(v, path);
    EXPECT_EQ(check_vectors(*tok, vectors, path), static_cast<int>(vectors.texts.size()));
  }
}

TEST(TokenizerJson, SentencePieceStyleLlamaPassesTheVectors) {
  LMPACK_REQUIRE_SHARED();
  Vocab gguf = gguf_vocab("llama-spm");
  auto vectors = read_vocab_vectors("llama-spm");
  for (bool metaspace : {false, true}) {
    SCOPED_TRACE(metaspace ? "Metaspace pre-tokenizer" : "Prepend + Replace normalizer");
    std::string dir = metaspace ? "spm_metaspace" : "spm_prepend";
    std::string path = write_json(dir, "tokenizer.json", spm_json(gguf, metaspace));
    if (metaspace) write_json(dir, "tokenizer_config.json", {{"eos_token", "</s>"}, {"add_bos_token", false}});
    Vocab v = load_tokenizer_json_vocab(path);
    EXPECT_EQ(v.model, "llama");
    EXPECT_TRUE(v.add_space_prefix);
    expect_same_tokens(v, gguf);
    for (int64_t i = 0; i < 259; ++i) EXPECT_EQ(v.token_types[i], gguf.token_types[i]) << "token " << i;
    EXPECT_EQ(v.unk_id, 0);
    EXPECT_EQ(v.bos_id, 1);
    EXPECT_EQ(v.add_bos, !metaspace);  // template, or add_bos_token false in the config
    EXPECT_EQ(v.eos_id, metaspace ? 2 : -1);
    auto tok = make_tokenizer(v, path);
    EXPECT_EQ(check_vectors(*tok, vectors, path), static_cast<int>(vectors.texts.size()));
    std::string text = "Once upon a time, 日本 🦙 \xFF bytes";
    EXPECT_EQ(tok->decode(tok->encode(text, true)), text);
  }
}

void expect_json_error(const std::string& name, const Json& json, const std::string& needle) {
  std::string path = write_json("bad_" + name, "tokenizer.json", json);
  try {
    load_tokenizer_json_vocab(path);
    ADD_FAILURE() << name << ": loaded";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << name << ": " << msg;
  }
}

TEST(TokenizerJson, MalformedFilesFailNamingTheKey) {
  Vocab v;
  v.tokens = {"a", "b", "ab", "<|endoftext|>"};
  v.token_types = {TokenType::kNormal, TokenType::kNormal, TokenType::kNormal, TokenType::kControl};
  v.merges = {"a b"};
  Json good = gpt2_json(v, true);
  ASSERT_NO_THROW(load_tokenizer_json_vocab(write_json("good_small", "tokenizer.json", good)));

  Json j = good;
  j["model"]["type"] = "Unigram";
  expect_json_error("unigram", j, "model.type is 'Unigram'");
  j = good;
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
  expect_json_error("regex", j, "Split regex '\\w+' is not recognised");
  j = good;
  j["model"]["vocab"].erase("b");
  expect_json_error("gap", j, "token id 1 is in neither model.vocab nor added_tokens");
  j = good;
  j["model"]["merges"][0] = 7;
  expect_json_error("merge", j, "model.merges[0]");
  j = good;
  j["model"]["vocab"]["a"] = "zero";
  expect_json_error("id", j, "model.vocab entry 'a' is not an integer id");
  j = good;
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  j["decoder"] = nullptr;
  expect_json_error("flavour", j, "cannot tell the BPE flavour");
  j = good;
  j["model"]["continuing_subword_prefix"] = "##";
  expect_json_error("affix", j, "model.continuing_subword_prefix is \"##\"");
  j = good;
  j.erase("model");
  expect_json_error("nomodel", j, "no \"model\" object");

  std::string path = write_json("bad_json", "tokenizer.json", good);
  std::ofstream(path, std::ios::binary) << "{\"model\": ";
  expect_json_error("null_document", Json(), "no \"model\" object");
  try {
    load_tokenizer_json_vocab(path);
    ADD_FAILURE() << "truncated JSON loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  }

  std::string dir_path = write_json("bad_config", "tokenizer.json", good);
  std::string config = write_json("bad_config", "tokenizer_config.json", {{"bos_token", "<s>"}});
  try {
    load_tokenizer_json_vocab(dir_path);
    ADD_FAILURE() << "unknown bos_token loaded";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(config + ": bos_token '<s>' is not a token"), std::string::npos) << msg;
  }
  EXPECT_THROW(load_tokenizer_json_vocab(testing::temp_dir() + "/no_such_dir/tokenizer.json"), Error);
}

}  // namespace
}  // namespace lmpack
