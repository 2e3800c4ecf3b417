// Harness: arbitrary bytes through real byte-level BPE vocabularies (llama.cpp's
// GPT-2, DeepSeek-Coder and Falcon test vocabularies, each with its own
// pre-tokenizer), and through GPT-2's first 1000 tokens under every
// pre-tokenizer lmpack knows. The first byte picks the case; the rest is
// encoded, every id must be a token the text may produce, the same bytes are
// decoded as token ids, and, since every byte has a token, decode(encode(text))
// == text must hold for any bytes.
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "fuzz_shared.h"
#include "io/gguf.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_text.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack::fuzz {
namespace {

struct BpeCase {
  std::unique_ptr<Tokenizer> tokenizer;
  bool all_bytes = true;  // every byte's GPT-2 character is a normal token
};

BpeCase make_case(Vocab v) {
  BpeCase c;
  std::unordered_set<std::string> normal;
  for (size_t id = 0; id < v.tokens.size(); ++id)
    if (v.token_types.empty() || v.token_types[id] == TokenType::kNormal) normal.insert(v.tokens[id]);
  for (const std::string& ch : byte_to_unicode_table()) c.all_bytes = c.all_bytes && normal.count(ch) > 0;
  c.tokenizer = make_tokenizer(std::move(v), "bpe-vocab");
  return c;
}

Vocab gguf_vocab(const char* name) {
  return vocab_from_gguf(read_gguf(shared_path(cat("data/llamacpp-vocab-tests/ggml-vocab-", name, ".gguf"))));
}

// GPT-2's first 1000 tokens (the 256 byte characters first) and the merges
// among them, under pre-tokenizer `pre`.
Vocab small_gpt2(const Vocab& full, const std::string& pre) {
  Vocab v = full;
  v.pre = pre;
  v.tokens.resize(1000);
  v.token_types.resize(1000);
  const std::unordered_set<std::string> kept(v.tokens.begin(), v.tokens.end());
  v.merges.clear();
  for (const std::string& m : full.merges) {
    const size_t space = m.find(' ', 1);
    if (space == std::string::npos) continue;
    const std::string left = m.substr(0, space), right = m.substr(space + 1);
    if (kept.count(left) && kept.count(right) && kept.count(left + right)) v.merges.push_back(m);
  }
  v.bos_id = v.eos_id = v.unk_id = v.pad_id = -1;
  return v;
}

struct BpeCases {
  std::vector<BpeCase> full;                // gpt-2, deepseek-coder, falcon
  Vocab gpt2;                               // for the small cases
  std::vector<std::string> pre_names;
  std::map<std::string, BpeCase> small;     // by pre-tokenizer, built on first use
};

BpeCases load_bpe_cases() {
  BpeCases c;
  c.gpt2 = gguf_vocab("gpt-2");
  c.full.push_back(make_case(c.gpt2));
  c.full.push_back(make_case(gguf_vocab("deepseek-coder")));
  c.full.push_back(make_case(gguf_vocab("falcon")));
  c.pre_names = PreTokenizer::supported_names();
  return c;
}

}  // namespace

void fuzz_tokenize_bpe(const uint8_t* data, size_t size) {
  static BpeCases cases = load_bpe_cases();
  if (size == 0) return;
  const size_t pick = data[0] % (cases.full.size() + cases.pre_names.size());
  const BpeCase* c = nullptr;
  if (pick < cases.full.size()) {
    c = &cases.full[pick];
  } else {
    const std::string& pre = cases.pre_names[pick - cases.full.size()];
    auto it = cases.small.find(pre);
    if (it == cases.small.end()) it = cases.small.emplace(pre, make_case(small_gpt2(cases.gpt2, pre))).first;
    c = &it->second;
  }
  const Tokenizer& tok = *c->tokenizer;
  const Vocab& v = tok.vocab();
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);

  const std::vector<int32_t> ids = tok.encode(text, /*add_bos=*/false);
  for (int32_t id : ids) {
    LMPACK_FUZZ_CHECK(id >= 0 && id < v.size(), "id ", id);
    LMPACK_FUZZ_CHECK(v.token_types[id] != TokenType::kControl, "control token ", id, " from text");
  }
  if (c->all_bytes) {
    const std::string back = tok.decode(ids);
    LMPACK_FUZZ_CHECK(back == text, "decode(encode(text)) differs under pre-tokenizer ", v.pre);
  }
  decode_ids_from_bytes(tok, text, "bpe-vocab");
}

}  // namespace lmpack::fuzz
