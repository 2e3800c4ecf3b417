// make_tokenizer() dispatch on Vocab::model and the shared decode loop.
#include "tokenizer/tokenizer.h"

#include "core/error.h"
#include "core/printable.h"
#include "tokenizer/tokenizer_bpe.h"
#include "tokenizer/tokenizer_spm.h"

namespace lmpack {

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  int32_t prev = -1;
  for (int32_t id : ids) {
    text += decode_token(prev, id);
    prev = id;
  }
  return text;
}

std::unique_ptr<Tokenizer> make_tokenizer(Vocab vocab, const std::string& where) {
  if (vocab.tokens.empty()) throw Error(where, "the vocabulary has no tokens");
  const int64_t n = vocab.size();
  for (auto [name, id] : {std::pair{"bos", vocab.bos_id}, {"eos", vocab.eos_id}, {"unk", vocab.unk_id}}) {
    if (id < -1 || id >= n)
      throw Error(where, cat(name, " token id ", id, " is outside the vocabulary of ", n, " tokens"));
  }
  if (vocab.model == "llama") return std::make_unique<SpmTokenizer>(std::move(vocab), where);
  // Without merges byte-level BPE degrades to one token per byte: every text
  // would be scored wrong. llama.cpp refuses such a file too.
  if (vocab.model == "gpt2" && vocab.merges.empty())
    throw Error(where, "the byte-level BPE (gpt2) vocabulary has no merges (tokenizer.ggml.merges / model.merges)");
  if (vocab.model == "gpt2") return std::make_unique<BpeTokenizer>(std::move(vocab), where);
  throw Error(where, cat("tokenizer model '", printable(vocab.model),
                         "' is not supported (supported: 'llama' = SentencePiece BPE, 'gpt2' = byte-level BPE)"));
}

}  // namespace lmpack
