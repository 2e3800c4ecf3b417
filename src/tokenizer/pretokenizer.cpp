// The pre-tokenizer table and its PCRE2 matcher. The regexes are the ones
// llama.cpp's llm_tokenizer_bpe uses per pre-tokenizer type (case-insensitive
// contractions spelled out as character classes, as llama.cpp does); the
// `hf_pattern` column holds the original tokenizer.json spelling, used to
// recognise a Split pre-tokenizer when reading tokenizer.json.
#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>

#include "core/error.h"
#include "core/printable.h"

namespace lmpack {
namespace {

constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3Hf =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Hf =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4o =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kBloom = R"( ?[^(\s|.,!?…。，、।۔،)]+)";

struct PreTokenizerSpec {
  std::vector<std::string> names;  // first = canonical
  std::vector<std::string> regexes;
  bool ignore_merges = false;
  std::vector<std::string> hf_patterns;  // tokenizer.json spellings recognised as this
};

const std::vector<PreTokenizerSpec>& spec_table() {
  static const std::vector<PreTokenizerSpec> table = {
      {{"gpt-2", "default", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de",
        "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion"},
       {kGpt2},
       false,
       {kGpt2}},
      {{"llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
       {kLlama3},
       true,
       {kLlama3Hf, kLlama3}},
      {{"dbrx", "smaug-bpe", "chatglm-bpe"}, {kLlama3}, false, {}},
      {{"qwen2", "qwen2.5", "qwen-2.5", "deepseek-r1-qwen", "stablelm2", "hunyuan"}, {kQwen2}, false, {kQwen2Hf, kQwen2}},
      {{"deepseek-coder"},
       {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+", R"(\p{N})"},
       false,
       {}},
      {{"deepseek-v3"},
       {R"(\p{N}{1,3})", "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
        R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
       false,
       {}},
      {{"falcon"}, {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}, false, {}},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"},
       {R"(\p{N})", kGpt2},
       false,
       {}},
      {{"bloom", "poro-chat", "gpt3-finnish"}, {kBloom}, false, {}},
      {{"viking"}, {kBloom, R"(\p{N})"}, false, {}},
      {{"gpt-4o"}, {kGpt4o}, false, {kGpt4o}},
  };
  return table;
}

}  // namespace

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() {
    if (code) pcre2_code_free(code);
  }
};

PreTokenizer::PreTokenizer(const std::string& name, const std::string& where) : name_(name) {
  const PreTokenizerSpec* spec = nullptr;
  for (const auto& s : spec_table())
    if (std::find(s.names.begin(), s.names.end(), name) != s.names.end()) spec = &s;
  if (!spec) {
    std::string names;
    for (const std::string& n : supported_names()) names += (names.empty() ? "" : ", ") + n;
    throw Error(where, cat("pre-tokenizer '", printable(name), "' is not supported (supported: ", names, ")"));
  }
  ignore_merges_ = spec->ignore_merges;
  for (const std::string& pattern : spec->regexes) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    auto regex = std::make_unique<Regex>();
    regex->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (!regex->code) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof(message));
      LMPACK_CHECK(false, cat("pre-tokenizer '", name, "' regex does not compile at ", offset, ": ",
                              reinterpret_cast<const char*>(message)));
    }
    pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE);  // optional: falls back to the interpreter
    regexes_.push_back(std::move(regex));
  }
}

PreTokenizer::~PreTokenizer() = default;

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (text.empty()) return pieces;
  pieces.push_back(text);
  for (const auto& regex : regexes_) {
    pcre2_match_data* match = pcre2_match_data_create_from_pattern(regex->code, nullptr);
    LMPACK_CHECK(match != nullptr, "pcre2_match_data_create_from_pattern failed");
    std::vector<std::string_view> next;
    next.reserve(pieces.size() * 2);
    for (std::string_view piece : pieces) {
      // The piece is the whole subject: lookarounds see nothing beyond it.
      auto subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t start = 0;   // where the next match search begins
      size_t emitted = 0;  // end of the last emitted piece
      while (start < piece.size()) {
        int rc = pcre2_match(regex->code, subject, piece.size(), start, 0, match, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        LMPACK_CHECK(rc >= 0, cat("pcre2_match failed with code ", rc));
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
        size_t begin = ovector[0];
        size_t end = ovector[1];
        if (end == begin) {  // empty match: step over one character
          start = begin + 1;
          while (start < piece.size() && (static_cast<uint8_t>(piece[start]) & 0xC0) == 0x80) ++start;
          continue;
        }
        if (begin > emitted) next.push_back(piece.substr(emitted, begin - emitted));
        next.push_back(piece.substr(begin, end - begin));
        emitted = end;
        start = end;
      }
      if (emitted < piece.size()) next.push_back(piece.substr(emitted));
    }
    pcre2_match_data_free(match);
    pieces.swap(next);
  }
  return pieces;
}

std::vector<std::string> PreTokenizer::supported_names() {
  std::vector<std::string> names;
  for (const auto& s : spec_table()) names.insert(names.end(), s.names.begin(), s.names.end());
  return names;
}

std::string pre_tokenizer_for_hf_pattern(std::string_view pattern) {
  for (const auto& s : spec_table())
    for (const std::string& p : s.hf_patterns)
      if (p == pattern) return s.names.front();
  return std::string();
}

std::string hf_pattern_for_pre_tokenizer(std::string_view name) {
  for (const auto& s : spec_table())
    if (std::find(s.names.begin(), s.names.end(), name) != s.names.end())
      return s.hf_patterns.empty() ? std::string() : s.hf_patterns.front();
  return std::string();
}

bool pre_tokenizer_ignores_merges(std::string_view name) {
  for (const auto& s : spec_table())
    if (std::find(s.names.begin(), s.names.end(), name) != s.names.end()) return s.ignore_merges;
  return false;
}

}  // namespace lmpack
