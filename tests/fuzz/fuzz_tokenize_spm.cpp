// Harness: arbitrary bytes through real SentencePiece-style vocabularies
// (tok512.bin of stories260K, llama.cpp's Llama and Phi-3 test vocabularies).
// The first byte picks the vocabulary; the rest is encoded (with and without
// BOS), every id must be a token the text may produce, the same bytes are
// decoded as token ids, and decode(encode(text, bos)) == text must hold for
// every well-formed UTF-8 text without a literal "▁" or user-defined token
// (SentencePiece cannot tell those apart from what it escapes itself).
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "fuzz_shared.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack::fuzz {
namespace {

struct SpmCase {
  std::unique_ptr<Tokenizer> tokenizer;
  bool all_bytes = true;                  // a <0xXX> token for every byte
  std::vector<std::string> user_defined;  // pieces matched literally
};

std::vector<SpmCase> load_spm_cases() {
  std::vector<Vocab> vocabs;
  vocabs.push_back(load_llama2c_vocab(shared_path("models/stories260K/tok512.bin")));
  for (const char* name : {"llama-spm", "phi-3"})
    vocabs.push_back(vocab_from_gguf(read_gguf(shared_path(cat("data/llamacpp-vocab-tests/ggml-vocab-", name, ".gguf")))));
  std::vector<SpmCase> cases;
  for (Vocab& v : vocabs) {
    SpmCase c;
    int bytes = 0;
    for (size_t id = 0; id < v.tokens.size(); ++id) {
      const TokenType type = id < v.token_types.size() ? v.token_types[id] : TokenType::kNormal;
      if (type == TokenType::kByte) ++bytes;
      if (type == TokenType::kUserDefined && !v.tokens[id].empty()) c.user_defined.push_back(v.tokens[id]);
    }
    c.all_bytes = bytes >= 256;
    c.tokenizer = make_tokenizer(std::move(v), "spm-vocab");
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace

void fuzz_tokenize_spm(const uint8_t* data, size_t size) {
  static const std::vector<SpmCase> cases = load_spm_cases();
  if (size == 0) return;
  const SpmCase& c = cases[data[0] % cases.size()];
  const Tokenizer& tok = *c.tokenizer;
  const Vocab& v = tok.vocab();
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);

  bool round_trip = c.all_bytes && is_utf8(text) && text.find("\xE2\x96\x81") == std::string::npos;
  for (const std::string& piece : c.user_defined) round_trip = round_trip && text.find(piece) == std::string::npos;
  for (bool bos : {true, false}) {
    const std::vector<int32_t> ids = tok.encode(text, bos);
    for (size_t i = 0; i < ids.size(); ++i) {
      const int32_t id = ids[i];
      LMPACK_FUZZ_CHECK(id >= 0 && id < v.size(), "id ", id);
      const bool is_bos = bos && i == 0 && id == v.bos_id;
      LMPACK_FUZZ_CHECK(is_bos || v.token_types[id] != TokenType::kControl, "control token ", id, " from text");
    }
    if (bos && round_trip) {
      const std::string back = tok.decode(ids);
      LMPACK_FUZZ_CHECK(back == text, "decode(encode(text)) differs: '", back, "'");
    }
  }
  decode_ids_from_bytes(tok, text, "spm-vocab");
}

}  // namespace lmpack::fuzz
