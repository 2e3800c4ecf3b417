// load_tokenizer_json_vocab(): a Hugging Face tokenizer.json whose model is
// BPE, in one of the two shapes Llama-family models use:
//  - byte-level (pre_tokenizer ByteLevel, maybe in a Sequence after a Split
//    regex): Vocab::model "gpt2", the pre name recognised from the Split
//    regex (pretokenizer.h), merges kept in rank order;
//  - SentencePiece-style ("▁" for spaces via normalizer Prepend/Replace or a
//    Metaspace pre-tokenizer, usually byte_fallback): Vocab::model "llama".
//    HF applies merges by rank; the SPM encoder merges by score, so each
//    token gets score = -(rank of the first merge that makes it). Tokens of
//    two or more characters that no merge makes are typed kUnused, since HF
//    can never produce them either.
// BOS/EOS and add_bos/add_eos come from tokenizer_config.json beside the
// file when it exists, else from a TemplateProcessing post-processor.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <limits>
#include <map>

#include "core/error.h"
#include "core/printable.h"
#include "core/text_file.h"
#include "io/json_text.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_text.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace {

using Json = nlohmann::json;

constexpr const char* kSpace = "\xE2\x96\x81";  // "▁"

// Real tokenizer.json files run to a few tens of MB (a 256K vocabulary with
// its merges is about 1.5 million JSON values).
constexpr uint64_t kMaxTokenizerJsonBytes = uint64_t{256} << 20;
constexpr JsonLimits kTokenizerJsonLimits{64, size_t{1} << 24};
constexpr uint64_t kMaxConfigBytes = uint64_t{16} << 20;

// node[key], or a null node when absent (never a temporary: flatten() keeps
// pointers into it).
const Json& member(const Json& node, const char* key) {
  static const Json kNull;
  if (!node.is_object()) return kNull;
  auto it = node.find(key);
  return it == node.end() ? kNull : *it;
}

std::string type_of(const Json& node) {
  if (!node.is_object()) return std::string();
  auto it = node.find("type");
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The node itself, or the members of a {"type": "Sequence"} node (under
// `list_key`: "pretokenizers", "normalizers", "decoders").
std::vector<const Json*> flatten(const Json& node, const char* list_key) {
  std::vector<const Json*> out;
  if (node.is_null()) return out;
  if (type_of(node) == "Sequence" && node.contains(list_key) && node[list_key].is_array()) {
    for (const Json& child : node[list_key]) out.push_back(&child);
  } else {
    out.push_back(&node);
  }
  return out;
}

// A special-token spelling from tokenizer_config.json: "text" or {"content": "text"}.
std::string token_text(const Json& node) {
  if (node.is_string()) return node.get<std::string>();
  if (node.is_object() && node.contains("content") && node["content"].is_string())
    return node["content"].get<std::string>();
  return std::string();
}

struct Parsed {
  std::vector<std::string> tokens;
  std::map<std::string, int32_t> ids;  // text -> first id
  std::vector<int> added;              // per id: 0 no, 1 added (user-defined), 2 added special
};

Parsed read_tokens(const std::string& path, const Json& model, const Json& root) {
  Parsed p;
  const Json& vocab = model.at("vocab");
  if (!vocab.is_object() || vocab.empty()) throw Error(path, "model.vocab is missing or not a non-empty object");
  std::map<int64_t, std::pair<std::string, int>> by_id;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer())
      throw Error(path, cat("model.vocab entry '", printable(it.key()), "' is not an integer id"));
    int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= std::numeric_limits<int32_t>::max())
      throw Error(path, cat("model.vocab entry '", printable(it.key()), "' has id ", id));
    if (!by_id.emplace(id, std::pair{it.key(), 0}).second)
      throw Error(path, cat("model.vocab gives id ", id, " to both '", printable(by_id[id].first), "' and '",
                            printable(it.key()), "'"));
  }
  if (root.contains("added_tokens") && root["added_tokens"].is_array()) {
    for (const Json& t : root["added_tokens"]) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
          !t["content"].is_string())
        throw Error(path, cat("added_tokens entry ", json_excerpt(t), " lacks an integer id or a string content"));
      int64_t id = t["id"].get<int64_t>();
      std::string content = t["content"].get<std::string>();
      if (id < 0 || id >= std::numeric_limits<int32_t>::max())
        throw Error(path, cat("added_tokens entry '", printable(content), "' has id ", id));
      int kind = t.value("special", false) ? 2 : 1;
      auto [it, fresh] = by_id.emplace(id, std::pair{content, kind});
      if (!fresh) {
        if (it->second.first != content)
          throw Error(path, cat("added_tokens gives id ", id, " to '", printable(content), "' but model.vocab has '",
                                printable(it->second.first), "'"));
        it->second.second = kind;
      }
    }
  }
  const int64_t n = by_id.rbegin()->first + 1;
  if (static_cast<int64_t>(by_id.size()) != n) {
    int64_t expect = 0;
    for (const auto& [id, entry] : by_id) {
      if (id != expect) break;
      ++expect;
    }
    throw Error(path, cat("token id ", expect, " is in neither model.vocab nor added_tokens (ids run to ", n - 1, ")"));
  }
  p.tokens.reserve(n);
  p.added.reserve(n);
  for (auto& [id, entry] : by_id) {
    p.ids.emplace(entry.first, static_cast<int32_t>(id));
    p.tokens.push_back(std::move(entry.first));
    p.added.push_back(entry.second);
  }
  return p;
}

std::vector<std::string> read_merges(const std::string& path, const Json& model) {
  std::vector<std::string> merges;
  if (!model.contains("merges")) return merges;
  const Json& list = model["merges"];
  if (!list.is_array()) throw Error(path, "model.merges is not an array");
  merges.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& m = list[i];
    if (m.is_string()) {
      merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      throw Error(path, cat("model.merges[", i, "] is ", json_excerpt(m), ", expected \"a b\" or [\"a\", \"b\"]"));
    }
    const std::string& s = merges.back();
    size_t space = s.find(' ', 1);
    if (space == std::string::npos || space + 1 >= s.size())
      throw Error(path, cat("model.merges[", i, "] is '", printable(s), "', expected two pieces"));
  }
  return merges;
}

// Byte-level: returns the pre name, from a Split regex or a plain ByteLevel.
std::string byte_level_pre(const std::string& path, const Json& pre_tokenizer) {
  std::string split_pattern;
  bool have_split = false, byte_level_regex = false;
  for (const Json* node : flatten(pre_tokenizer, "pretokenizers")) {
    std::string type = type_of(*node);
    if (type == "Split") {
      const Json& pattern = member(*node, "pattern");
      if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
        split_pattern = pattern["Regex"].get<std::string>();
      } else if (pattern.contains("String") && pattern["String"].is_string()) {
        split_pattern = pattern["String"].get<std::string>();
      }
      have_split = true;
    } else if (type == "ByteLevel") {
      if (node->value("add_prefix_space", false))
        throw Error(path, "pre_tokenizer ByteLevel has add_prefix_space = true, which is not supported");
      byte_level_regex = node->value("use_regex", true);
    } else if (!type.empty() && type != "Digits") {
      throw Error(path, cat("pre_tokenizer '", printable(type), "' is not supported in a byte-level tokenizer"));
    }
  }
  if (have_split) {
    std::string name = pre_tokenizer_for_hf_pattern(split_pattern);
    if (name.empty())
      throw Error(path, cat("pre_tokenizer Split regex '", printable(split_pattern),
                            "' is not recognised (known: the GPT-2, Llama 3, Qwen2 and GPT-4o patterns)"));
    return name;
  }
  if (byte_level_regex) return "gpt-2";
  throw Error(path, "pre_tokenizer ByteLevel has use_regex = false and there is no Split regex");
}

// SentencePiece-style: whether the input gets a leading "▁".
bool spm_space_prefix(const Json& root) {
  bool prefix = false;
  for (const Json* node : flatten(member(root, "normalizer"), "normalizers"))
    if (type_of(*node) == "Prepend" && node->value("prepend", std::string()) == kSpace) prefix = true;
  for (const Json* node : flatten(member(root, "pre_tokenizer"), "pretokenizers")) {
    if (type_of(*node) != "Metaspace") continue;
    if (node->contains("prepend_scheme")) {
      prefix = node->value("prepend_scheme", std::string()) != "never";
    } else {
      prefix = node->value("add_prefix_space", true);
    }
  }
  return prefix;
}

bool looks_spm(const Json& root, const Json& model) {
  if (model.value("byte_fallback", false)) return true;
  for (const Json* node : flatten(member(root, "normalizer"), "normalizers")) {
    std::string type = type_of(*node);
    if (type == "Prepend") return true;
    if (type == "Replace" && node->value("content", std::string()) == kSpace) return true;
  }
  for (const Json* node : flatten(member(root, "pre_tokenizer"), "pretokenizers"))
    if (type_of(*node) == "Metaspace") return true;
  return false;
}

bool looks_byte_level(const Json& root) {
  for (const Json* node : flatten(member(root, "pre_tokenizer"), "pretokenizers"))
    if (type_of(*node) == "ByteLevel") return true;
  return false;
}

void set_special_ids(const std::string& path, const Json& root, const std::map<std::string, int32_t>& ids,
                     const TokenizerConfigText* config_text, Vocab& v) {
  auto lookup = [&](const std::string& where, const std::string& key, const std::string& text) {
    auto it = ids.find(text);
    if (it == ids.end()) throw Error(where, cat(key, " '", printable(text), "' is not a token of ", path));
    return it->second;
  };
  // Fallback first: the post-processor's template ([BOS] $A [EOS]).
  const Json& post = member(root, "post_processor");
  for (const Json* node : flatten(post, "processors")) {
    if (type_of(*node) != "TemplateProcessing" || !node->contains("single") || !(*node)["single"].is_array())
      continue;
    const Json& single = (*node)["single"];
    bool seen_sequence = false;
    for (const Json& item : single) {
      if (item.contains("Sequence")) {
        seen_sequence = true;
      } else if (item.contains("SpecialToken") && item["SpecialToken"].contains("id")) {
        int32_t id = lookup(path, "post_processor special token", item["SpecialToken"]["id"].get<std::string>());
        if (!seen_sequence) {
          v.bos_id = id;
          v.add_bos = true;
        } else {
          v.eos_id = id;
          v.add_eos = true;
        }
      }
    }
  }
  if (config_text == nullptr) return;
  const std::string& config_where = config_text->where;
  const Json config = parse_json_text(config_text->text, config_where);
  if (!config.is_object()) throw Error(config_where, "is not a JSON object");
  for (auto [key, slot] : {std::pair{"bos_token", &v.bos_id}, {"eos_token", &v.eos_id}, {"unk_token", &v.unk_id},
                           {"pad_token", &v.pad_id}}) {
    if (!config.contains(key) || config[key].is_null()) continue;
    std::string text = token_text(config[key]);
    if (text.empty()) throw Error(config_where, cat(key, " is ", json_excerpt(config[key]), ", expected a string or {\"content\": ...}"));
    *slot = lookup(config_where, key, text);
  }
  for (auto [key, slot] : {std::pair{"add_bos_token", &v.add_bos}, {"add_eos_token", &v.add_eos}}) {
    if (!config.contains(key) || config[key].is_null()) continue;
    if (!config[key].is_boolean()) throw Error(config_where, cat(key, " is ", json_excerpt(config[key]), ", expected true or false"));
    *slot = config[key].get<bool>();
  }
}

Vocab parse_tokenizer_json(const Json& root, const std::string& path, const TokenizerConfigText* config) {
  if (!root.is_object() || !root.contains("model") || !root["model"].is_object())
    throw Error(path, "has no \"model\" object (is this a Hugging Face tokenizer.json?)");
  const Json& model = root["model"];
  std::string type = type_of(model);
  if (type.empty() && model.contains("merges")) type = "BPE";  // old files omit model.type
  if (type != "BPE") throw Error(path, cat("model.type is '", printable(type), "'; only BPE tokenizers are supported"));
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json& affix = member(model, key);
    if (!affix.is_null() && !(affix.is_string() && affix.get<std::string>().empty()))
      throw Error(path, cat("model.", key, " is ", json_excerpt(affix), "; word-affix BPE is not supported"));
  }

  Vocab v;
  Parsed parsed;
  try {
    parsed = read_tokens(path, model, root);
    v.merges = read_merges(path, model);
  } catch (const Json::exception& e) {
    throw Error(path, cat("malformed model.vocab / added_tokens: ", printable(e.what(), 160)));
  }
  const size_t n = parsed.tokens.size();
  v.tokens = std::move(parsed.tokens);
  v.token_types.assign(n, TokenType::kNormal);
  for (size_t id = 0; id < n; ++id) {
    if (parsed.added[id] == 2) v.token_types[id] = TokenType::kControl;
    if (parsed.added[id] == 1) v.token_types[id] = TokenType::kUserDefined;
  }
  v.add_bos = false;
  v.add_eos = false;
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    auto it = parsed.ids.find(model["unk_token"].get<std::string>());
    if (it == parsed.ids.end())
      throw Error(path, cat("model.unk_token '", printable(model["unk_token"].get<std::string>()), "' is not a token"));
    v.unk_id = it->second;
  }

  if (looks_byte_level(root) && !looks_spm(root, model)) {
    v.model = "gpt2";
    v.pre = byte_level_pre(path, member(root, "pre_tokenizer"));
    v.add_space_prefix = false;
  } else if (looks_spm(root, model)) {
    v.model = "llama";
    v.pre = "default";
    v.add_space_prefix = spm_space_prefix(root);
    // score = -(rank of the first merge that makes the token).
    v.scores.assign(n, 0.0f);
    std::vector<bool> made(n, false);
    for (size_t rank = 0; rank < v.merges.size(); ++rank) {
      const std::string& m = v.merges[rank];
      size_t space = m.find(' ', 1);
      auto it = parsed.ids.find(m.substr(0, space) + m.substr(space + 1));
      if (it == parsed.ids.end() || made[it->second]) continue;
      made[it->second] = true;
      v.scores[it->second] = -static_cast<float>(rank);
    }
    const bool byte_fallback = model.value("byte_fallback", false);
    for (size_t id = 0; id < n; ++id) {
      if (v.token_types[id] != TokenType::kNormal) continue;
      const std::string& t = v.tokens[id];
      if (static_cast<int32_t>(id) == v.unk_id) {
        v.token_types[id] = TokenType::kUnknown;
      } else if (byte_fallback && t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        v.token_types[id] = TokenType::kByte;
      } else if (!made[id] && utf8_chars(t).size() > 1) {
        v.token_types[id] = TokenType::kUnused;  // no merge makes it
      }
    }
    v.merges.clear();
  } else {
    throw Error(path, "cannot tell the BPE flavour: no ByteLevel pre_tokenizer and no \"▁\" convention "
                      "(normalizer Prepend/Replace, Metaspace pre_tokenizer or model.byte_fallback)");
  }
  if (v.unk_id >= 0 && v.model == "llama") v.token_types[v.unk_id] = TokenType::kUnknown;
  try {
    set_special_ids(path, root, parsed.ids, config, v);
  } catch (const Json::exception& e) {
    throw Error(path, cat("malformed post_processor or tokenizer_config.json: ", printable(e.what(), 160)));
  }
  return v;
}

}  // namespace

Vocab parse_tokenizer_json_vocab(std::string_view json_text, const std::string& where,
                                 const TokenizerConfigText* config) {
  const Json root = parse_json_text(json_text, where, kTokenizerJsonLimits);
  try {
    return parse_tokenizer_json(root, where, config);
  } catch (const Json::exception& e) {
    // A member of an unexpected JSON type somewhere the reader did not check.
    throw Error(where, cat("unexpected JSON structure: ", printable(e.what(), 160)));
  }
}

Vocab load_tokenizer_json_vocab(const std::string& path) {
  const std::string text = read_text_file(path, kMaxTokenizerJsonBytes, "tokenizer.json");
  const std::string config_path = (std::filesystem::path(path).parent_path() / "tokenizer_config.json").string();
  std::error_code ec;
  if (!std::filesystem::exists(config_path, ec)) return parse_tokenizer_json_vocab(text, path);
  const TokenizerConfigText config{read_text_file(config_path, kMaxConfigBytes, "tokenizer_config.json"), config_path};
  return parse_tokenizer_json_vocab(text, path, &config);
}

}  // namespace lmpack
