// Pre-tokenizers for byte-level BPE, by GGUF tokenizer.ggml.pre name. Each
// name maps to a list of regexes (one table in pretokenizer.cpp, following
// llama.cpp's llm_tokenizer_bpe); they run in order and each splits every
// piece left by the previous one into its matches and the gaps between them,
// so no byte is ever dropped. Matching uses PCRE2 with UTF and UCP.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lmpack {

class PreTokenizer {
 public:
  // Throws Error(where, ...) naming `name` and the supported names when the
  // name is unknown.
  PreTokenizer(const std::string& name, const std::string& where);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Pieces of `text`, in order; their concatenation is `text`.
  std::vector<std::string_view> split(std::string_view text) const;

  const std::string& name() const { return name_; }
  // llama.cpp's ignore_merges (Llama 3): a word that is itself a token is
  // taken whole, without merging.
  bool ignore_merges() const { return ignore_merges_; }

  static std::vector<std::string> supported_names();

 private:
  struct Regex;
  std::string name_;
  bool ignore_merges_ = false;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

// The GGUF pre name for a Hugging Face tokenizer.json Split pattern (the
// regex as tokenizer.json spells it), or "" when it is not recognised.
std::string pre_tokenizer_for_hf_pattern(std::string_view pattern);

// The other way: the tokenizer.json Split pattern of a GGUF pre name, or ""
// when lmpack knows no single-regex tokenizer.json spelling of it.
std::string hf_pattern_for_pre_tokenizer(std::string_view name);

// Whether the pre-tokenizer takes a word that is itself a token whole
// (PreTokenizer::ignore_merges), without building the regexes.
bool pre_tokenizer_ignores_merges(std::string_view name);

}  // namespace lmpack
