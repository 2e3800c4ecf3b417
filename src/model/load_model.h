// What every job does with the model fields of its request: load MODEL with
// a vocabulary from elsewhere (`tokenizer`), make the checkpoint's tokenizer,
// read just a vocabulary, and word the warning for a length beyond the
// model's trained context. Errors name the field ("tokenizer") or the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "tokenizer/tokenizer.h"

namespace lmpack {

// load_checkpoint(model) with `tokenizer` (a vocabulary file; "" : the
// model's own). Error("tokenizer", "<path>: no such file or directory") when
// it is missing, before the model is read; Error(model, ...) for the model.
Checkpoint load_model(const std::string& model, const std::string& tokenizer);

// The checkpoint's vocabulary as a Tokenizer; Error(checkpoint path, "has no
// vocabulary; pass `tokenizer` ...") when it has none.
std::unique_ptr<Tokenizer> tokenizer_for(const Checkpoint& checkpoint);

// A vocabulary from MODEL without reading its tensors' headers when it is
// itself a vocabulary file (a GGUF, vocab-only or not, a tokenizer.json, an
// HF folder); `tokenizer` wins when given.
Vocab load_vocab_for(const std::string& model, const std::string& tokenizer);

// Error(where, "token id N is outside the model's vocabulary of V (tokenizer
// does not match the model?)") for the first id that does not index the
// model's embedding rows; `where` names the vocabulary's source.
void check_token_ids(const std::vector<int32_t>& ids, const Checkpoint& checkpoint, const std::string& where);

// The warning for `tokens` (the value of request field `field`) beyond the
// model's trained context, naming the field in backquotes; "" when within it.
// Positions beyond it are extrapolated, which llama.cpp allows too.
std::string beyond_context_warning(const std::string& field, int64_t tokens, const Checkpoint& checkpoint);

}  // namespace lmpack
