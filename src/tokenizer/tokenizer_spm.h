// SentencePiece-style BPE with byte fallback (Vocab::model "llama"), as
// llama.cpp's llm_tokenizer_spm and llama2.c's run.c encode: spaces become
// "▁" (one more in front when add_space_prefix), the text starts as UTF-8
// characters, and the adjacent pair whose concatenation is a token with the
// highest score merges first (ties: leftmost) until none merges. A character
// that is no token becomes its <0xXX> byte tokens. User-defined tokens are
// matched literally first; control tokens are never produced from text.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_text.h"

namespace lmpack {

class SpmTokenizer : public Tokenizer {
 public:
  // Throws Error(where, ...) when scores or token types disagree in length
  // with the tokens.
  SpmTokenizer(Vocab vocab, const std::string& where);

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override;
  // "▁" -> " ", <0xXX> -> that byte, control tokens -> "". After BOS (prev ==
  // bos_id) one leading space is dropped when add_space_prefix is set, as
  // run.c does, so decode(encode(text, true)) == text.
  std::string decode_token(int32_t prev, int32_t id) const override;

 private:
  // Encodes escaped text ("▁" for spaces) with the pair merges.
  void encode_escaped(std::string_view text, std::vector<int32_t>& out) const;
  int32_t find_piece(std::string_view piece) const;

  std::string where_;
  std::unordered_map<std::string_view, int32_t> piece_to_id_;  // tokens text may produce
  std::array<int32_t, 256> byte_to_id_{};                      // <0xXX>, or -1
  std::vector<int16_t> byte_value_;                            // per id: byte, or -1
  SpecialSplitter specials_;
};

}  // namespace lmpack
