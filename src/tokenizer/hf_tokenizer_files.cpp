// hf_tokenizer_files(); see hf_tokenizer_files.h.
#include "tokenizer/hf_tokenizer_files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/printable.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_text.h"

namespace lmpack {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kSpace = "\xE2\x96\x81";  // "▁"

bool is_special(TokenType t) { return t == TokenType::kControl || t == TokenType::kUnknown; }

// text -> id over the whole vocabulary; a piece spelled twice has no
// tokenizer.json form (model.vocab is a JSON object).
std::map<std::string, int32_t> ids_by_text(const Vocab& v, const std::string& where) {
  std::map<std::string, int32_t> ids;
  for (int32_t id = 0; id < static_cast<int32_t>(v.tokens.size()); ++id) {
    auto [it, fresh] = ids.emplace(v.tokens[id], id);
    if (!fresh)
      throw Error(where, cat("tokens ", it->second, " and ", id, " are both '", printable(v.tokens[id]),
                             "'; a tokenizer.json vocabulary cannot hold a piece twice"));
  }
  return ids;
}

Json added_token(int32_t id, const std::string& text, bool special) {
  Json t;
  t["id"] = id;
  t["content"] = text;
  t["single_word"] = false;
  t["lstrip"] = false;
  t["rstrip"] = false;
  t["normalized"] = !special;
  t["special"] = special;
  return t;
}

Json added_tokens(const Vocab& v) {
  Json list = Json::array();
  for (int32_t id = 0; id < static_cast<int32_t>(v.tokens.size()); ++id) {
    const TokenType t = v.token_types.empty() ? TokenType::kNormal : v.token_types[id];
    if (is_special(t) || t == TokenType::kUserDefined) list.push_back(added_token(id, v.tokens[id], is_special(t)));
  }
  return list;
}

// [BOS] $A [EOS] as the vocabulary adds them; null when it adds neither.
Json post_processor(const Vocab& v) {
  const bool bos = v.add_bos && v.bos_id >= 0, eos = v.add_eos && v.eos_id >= 0;
  if (!bos && !eos) return Json();
  Json single = Json::array(), pair = Json::array(), specials = Json::object();
  auto special = [&](int32_t id) {
    const std::string& text = v.tokens[static_cast<size_t>(id)];
    specials[text] = {{"id", text}, {"ids", {id}}, {"tokens", {text}}};
    return Json{{"SpecialToken", {{"id", text}, {"type_id", 0}}}};
  };
  auto sequence = [](const char* id) { return Json{{"Sequence", {{"id", id}, {"type_id", 0}}}}; };
  if (bos) single.push_back(special(v.bos_id));
  single.push_back(sequence("A"));
  if (eos) single.push_back(special(v.eos_id));
  for (const char* part : {"A", "B"}) {
    if (bos) pair.push_back(special(v.bos_id));
    pair.push_back(sequence(part));
    if (eos) pair.push_back(special(v.eos_id));
  }
  return Json{{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

Json model_vocab(const Vocab& v) {
  Json vocab = Json::object();
  for (int32_t id = 0; id < static_cast<int32_t>(v.tokens.size()); ++id) vocab[v.tokens[id]] = id;
  return vocab;
}

// Merges as "a b" strings, or as [a, b] pairs when a piece holds a space.
Json merges_json(const std::vector<std::pair<std::string, std::string>>& merges) {
  bool spaces = false;
  for (const auto& [a, b] : merges) spaces = spaces || a.find(' ') != std::string::npos || b.find(' ') != std::string::npos;
  Json list = Json::array();
  for (const auto& [a, b] : merges) {
    if (spaces) list.push_back(Json::array({a, b}));
    else list.push_back(a + " " + b);
  }
  return list;
}

// SentencePiece scores -> BPE merges: every split of a normal token into two
// normal tokens, ranked by the merged token's score (best first), then by
// the merged token's id and the pieces' ids.
std::vector<std::pair<std::string, std::string>> spm_merges(const Vocab& v,
                                                            const std::map<std::string, int32_t>& ids) {
  auto normal = [&](int32_t id) { return v.token_types.empty() || v.token_types[id] == TokenType::kNormal; };
  std::vector<std::tuple<float, int32_t, int32_t, int32_t>> ranked;  // (-score, merged, left, right)
  for (int32_t id = 0; id < static_cast<int32_t>(v.tokens.size()); ++id) {
    if (!normal(id)) continue;
    const std::string& t = v.tokens[id];
    const std::vector<std::string_view> chars = utf8_chars(t);
    size_t at = 0;
    for (size_t i = 0; i + 1 < chars.size(); ++i) {
      at += chars[i].size();
      auto l = ids.find(t.substr(0, at)), r = ids.find(t.substr(at));
      if (l == ids.end() || r == ids.end() || !normal(l->second) || !normal(r->second)) continue;
      const float score = v.scores.empty() ? 0.0f : v.scores[id];
      ranked.emplace_back(-score, id, l->second, r->second);
    }
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(ranked.size());
  for (const auto& [neg_score, merged, l, r] : ranked) merges.emplace_back(v.tokens[l], v.tokens[r]);
  return merges;
}

Json spm_tokenizer(const Vocab& v, const std::map<std::string, int32_t>& ids) {
  Json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added_tokens(v);
  Json replace = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpace}};
  if (v.add_space_prefix) {
    j["normalizer"] = {{"type", "Sequence"},
                       {"normalizers", {{{"type", "Prepend"}, {"prepend", kSpace}}, replace}}};
  } else {
    j["normalizer"] = replace;
  }
  j["pre_tokenizer"] = nullptr;
  j["post_processor"] = post_processor(v);
  j["decoder"] = {{"type", "Sequence"},
                  {"decoders",
                   {{{"type", "Replace"}, {"pattern", {{"String", kSpace}}}, {"content", " "}},
                    {{"type", "ByteFallback"}},
                    {{"type", "Fuse"}},
                    {{"type", "Strip"}, {"content", " "}, {"start", v.add_space_prefix ? 1 : 0}, {"stop", 0}}}}};
  Json m;
  m["type"] = "BPE";
  m["dropout"] = nullptr;
  m["unk_token"] = v.unk_id >= 0 ? Json(v.tokens[static_cast<size_t>(v.unk_id)]) : Json();
  m["continuing_subword_prefix"] = nullptr;
  m["end_of_word_suffix"] = nullptr;
  m["fuse_unk"] = true;
  m["byte_fallback"] = true;
  m["ignore_merges"] = false;
  m["vocab"] = model_vocab(v);
  m["merges"] = merges_json(spm_merges(v, ids));
  j["model"] = std::move(m);
  return j;
}

Json byte_level_tokenizer(const Vocab& v, const std::string& where) {
  const std::string pattern = hf_pattern_for_pre_tokenizer(v.pre);
  if (pattern.empty())
    throw Error(where, cat("the vocabulary's pre-tokenizer '", printable(v.pre),
                           "' has no tokenizer.json spelling that lmpack writes (it writes gpt-2, llama-bpe, qwen2 "
                           "and gpt-4o); give `tokenizer` a tokenizer.json"));
  std::vector<std::pair<std::string, std::string>> merges;
  for (const std::string& m : v.merges) {
    const size_t space = m.find(' ', 1);
    if (space == std::string::npos) throw Error(where, cat("merge '", printable(m), "' is not two pieces"));
    merges.emplace_back(m.substr(0, space), m.substr(space + 1));
  }
  Json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added_tokens(v);
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
  Json post = post_processor(v);
  j["post_processor"] = post.is_null() ? Json{{"type", "ByteLevel"}, {"add_prefix_space", false},
                                              {"trim_offsets", false}, {"use_regex", false}}
                                       : post;
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  Json m;
  m["type"] = "BPE";
  m["dropout"] = nullptr;
  m["unk_token"] = nullptr;
  m["continuing_subword_prefix"] = "";
  m["end_of_word_suffix"] = "";
  m["fuse_unk"] = false;
  m["byte_fallback"] = false;
  m["ignore_merges"] = pre_tokenizer_ignores_merges(v.pre);
  m["vocab"] = model_vocab(v);
  m["merges"] = merges_json(merges);
  j["model"] = std::move(m);
  return j;
}

Json token_or_null(const Vocab& v, int32_t id) {
  if (id < 0 || id >= static_cast<int32_t>(v.tokens.size())) return Json();
  return v.tokens[static_cast<size_t>(id)];
}

std::string dump(const Json& j, const std::string& where, const char* file) {
  try {
    return j.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {  // a piece that is not UTF-8
    throw Error(where, cat("cannot write ", file, ": ", printable(e.what(), 160)));
  }
}

}  // namespace

HfTokenizerFiles hf_tokenizer_files(const Vocab& v, int64_t model_max_length, const std::string& where) {
  if (v.tokens.empty()) throw Error(where, "the vocabulary is empty");
  const std::map<std::string, int32_t> ids = ids_by_text(v, where);
  Json tokenizer;
  if (v.model == "llama") tokenizer = spm_tokenizer(v, ids);
  else if (v.model == "gpt2") tokenizer = byte_level_tokenizer(v, where);
  else throw Error(where, cat("vocabulary model '", printable(v.model), "' has no tokenizer.json form (llama, gpt2)"));

  Json config;
  config["add_bos_token"] = v.add_bos;
  config["add_eos_token"] = v.add_eos;
  config["bos_token"] = token_or_null(v, v.bos_id);
  config["eos_token"] = token_or_null(v, v.eos_id);
  config["unk_token"] = token_or_null(v, v.unk_id);
  config["pad_token"] = token_or_null(v, v.pad_id);
  config["clean_up_tokenization_spaces"] = false;
  config["model_max_length"] = model_max_length;
  config["tokenizer_class"] = "PreTrainedTokenizerFast";

  Json map = Json::object();
  for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token"})
    if (!config[key].is_null()) map[key] = config[key];

  HfTokenizerFiles f;
  f.tokenizer_json = dump(tokenizer, where, "tokenizer.json");
  f.tokenizer_config_json = dump(config, where, "tokenizer_config.json");
  f.special_tokens_map_json = dump(map, where, "special_tokens_map.json");
  return f;
}

}  // namespace lmpack
