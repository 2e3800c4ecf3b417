// vocab_from_gguf: tokenizer.ggml.* metadata -> Vocab (tokenizer/vocab.h), with
// llama.cpp's defaults for the keys a file may leave out.
#include <cmath>
#include <string>

#include "core/error.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace {

constexpr const char* kTokens = "tokenizer.ggml.tokens";

// A special-token id: absent, negative or 0xFFFFFFFF (GGUF's "none") -> -1;
// any other id outside the vocabulary is an error.
int32_t token_id(const GgufFile& g, const std::string& key, int64_t n_tokens) {
  if (g.find(key) == nullptr) return -1;
  const int64_t id = g.get_int(key);
  if (id < 0 || id == 0xFFFFFFFFll) return -1;
  if (id >= n_tokens)
    throw Error(g.path, cat("metadata key ", key, " is ", id, ", outside the vocabulary of ", n_tokens, " tokens"));
  return static_cast<int32_t>(id);
}

bool bool_or(const GgufFile& g, const std::string& key, bool fallback) {
  return g.find(key) != nullptr ? g.get_bool(key) : fallback;
}

void check_length(const GgufFile& g, const std::string& key, size_t n, size_t n_tokens) {
  if (n != n_tokens)
    throw Error(g.path, cat("metadata key ", key, " has ", n, " entries but ", kTokens, " has ", n_tokens));
}

}  // namespace

Vocab vocab_from_gguf(const GgufFile& g) {
  Vocab v;
  v.model = g.get_string("tokenizer.ggml.model");
  if (v.model.empty()) throw Error(g.path, "metadata key tokenizer.ggml.model is empty");
  v.pre = g.find("tokenizer.ggml.pre") != nullptr ? g.get_string("tokenizer.ggml.pre") : "default";
  v.tokens = g.get_string_array(kTokens);
  if (v.tokens.empty()) throw Error(g.path, cat("metadata key ", kTokens, " is empty"));
  const int64_t n = static_cast<int64_t>(v.tokens.size());
  if (n > (int64_t{1} << 31) - 2) throw Error(g.path, cat(kTokens, " has ", n, " tokens, too many"));

  if (g.find("tokenizer.ggml.scores") != nullptr) {
    v.scores = g.get_float_array("tokenizer.ggml.scores");
    check_length(g, "tokenizer.ggml.scores", v.scores.size(), v.tokens.size());
    for (size_t i = 0; i < v.scores.size(); ++i)
      if (!std::isfinite(v.scores[i]))
        throw Error(g.path, cat("tokenizer.ggml.scores of token ", i, " is ", v.scores[i], " (must be finite)"));
  }
  if (g.find("tokenizer.ggml.token_type") != nullptr) {
    std::vector<int64_t> types = g.get_int_array("tokenizer.ggml.token_type");
    check_length(g, "tokenizer.ggml.token_type", types.size(), v.tokens.size());
    v.token_types.reserve(types.size());
    for (size_t i = 0; i < types.size(); ++i) {
      if (types[i] < 0 || types[i] > static_cast<int64_t>(TokenType::kByte))
        throw Error(g.path, cat("tokenizer.ggml.token_type of token ", i, " is ", types[i], " (valid: 0..6)"));
      v.token_types.push_back(static_cast<TokenType>(types[i]));
    }
  }
  if (g.find("tokenizer.ggml.merges") != nullptr) v.merges = g.get_string_array("tokenizer.ggml.merges");

  v.bos_id = token_id(g, "tokenizer.ggml.bos_token_id", n);
  v.eos_id = token_id(g, "tokenizer.ggml.eos_token_id", n);
  v.unk_id = token_id(g, "tokenizer.ggml.unknown_token_id", n);
  v.pad_id = token_id(g, "tokenizer.ggml.padding_token_id", n);

  // llama.cpp's defaults: SentencePiece vocabularies add BOS and a space
  // prefix; byte-level BPE (gpt2) ones add neither unless the file says so.
  const bool spm = v.model == "llama";
  v.add_bos = bool_or(g, "tokenizer.ggml.add_bos_token", spm);
  v.add_eos = bool_or(g, "tokenizer.ggml.add_eos_token", false);
  v.add_space_prefix = bool_or(g, "tokenizer.ggml.add_space_prefix", spm);
  return v;
}

}  // namespace lmpack
