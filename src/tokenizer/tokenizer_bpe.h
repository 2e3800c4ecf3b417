// Byte-level BPE (Vocab::model "gpt2"), as GPT-2, Llama 3, Qwen2 and
// llama.cpp's llm_tokenizer_bpe encode: user-defined tokens are matched
// literally, the rest is split by the pre-tokenizer named by Vocab::pre, each
// word's bytes are spelled with GPT-2's bytes_to_unicode mapping, and the
// adjacent pair with the lowest merge rank merges first (ties: leftmost).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_text.h"

namespace lmpack {

class BpeTokenizer : public Tokenizer {
 public:
  // Throws Error(where, ...) for an unknown pre-tokenizer name or a merge
  // that is not "a b".
  BpeTokenizer(Vocab vocab, const std::string& where);

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override;
  // Normal tokens are byte-level decoded; control tokens decode to "";
  // user-defined tokens to their text.
  std::string decode_token(int32_t prev, int32_t id) const override;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;  // id of the merged token
  };
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  int32_t find_token(std::string_view piece) const;
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  std::string where_;
  PreTokenizer pre_;
  std::unordered_map<std::string_view, int32_t> token_to_id_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id, right id) -> rank, result
  SpecialSplitter specials_;
};

}  // namespace lmpack
