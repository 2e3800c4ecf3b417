// Text <-> token ids for any Vocab: SentencePiece-style BPE with byte fallback
// (Vocab::model "llama") or byte-level BPE with a pre-tokenizer (model "gpt2").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace lmpack {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // add_bos prepends vocab().bos_id when the vocabulary has one.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos) const = 0;
  // Bytes of one token as it appears in text; `prev` is the token before it
  // (-1 at the start), for SPM's leading-space rule after BOS.
  virtual std::string decode_token(int32_t prev, int32_t id) const = 0;
  std::string decode(const std::vector<int32_t>& ids) const;
  const Vocab& vocab() const { return vocab_; }

 protected:
  explicit Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}
  Vocab vocab_;
};

// Throws Error(where, ...) for an unknown model type or pre-tokenizer.
std::unique_ptr<Tokenizer> make_tokenizer(Vocab vocab, const std::string& where);

}  // namespace lmpack
