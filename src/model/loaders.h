// The per-format loaders behind load_checkpoint()/load_vocab() (checkpoint.h).
// Each maps its format's names and hyperparameters onto the internal ones;
// load_checkpoint() then validates shapes once for all of them.
#pragma once

#include <string>
#include <string_view>

#include "io/gguf.h"
#include "io/llama2c.h"
#include "model/checkpoint.h"

namespace lmpack {

Checkpoint load_gguf_checkpoint(const std::string& path);     // model/load_gguf.cpp
Checkpoint load_hf_checkpoint(const std::string& dir);        // model/load_hf.cpp
Checkpoint load_llama2c_checkpoint(const std::string& path);  // model/load_llama2c.cpp
// An already parsed llama2.c file (read_llama2c, or parse_llama2c over bytes
// in memory); its mapping, if any, goes into keep_alive.
Checkpoint checkpoint_from_llama2c(const Llama2cFile& file);  // model/load_llama2c.cpp

Vocab vocab_from_gguf(const GgufFile& gguf);                   // model/vocab_gguf.cpp
Vocab load_llama2c_vocab(const std::string& path);             // model/vocab_llama2c.cpp
// The same over bytes in memory; `where` names them in errors.
Vocab parse_llama2c_vocab(const uint8_t* data, size_t size, const std::string& where);
// tokenizer.json (+ tokenizer_config.json beside it for BOS/EOS/add_bos).
Vocab load_tokenizer_json_vocab(const std::string& path);      // model/vocab_tokenizer_json.cpp
// The same over text in memory; `config` is tokenizer_config.json's text (or null).
struct TokenizerConfigText {
  std::string text;
  std::string where;
};
Vocab parse_tokenizer_json_vocab(std::string_view json, const std::string& where,
                                 const TokenizerConfigText* config = nullptr);

// Throws Error(where, ...) when a vocabulary cannot be the one of a model with
// this many embedding rows: more tokens than rows, or fewer by more than the
// padding exports add (1/32 of the rows).             // model/checkpoint.cpp
void check_vocab_fits(const Vocab& vocab, int64_t embedding_rows, const std::string& where);

// Throws Error(checkpoint.path, ...) naming the first missing tensor or the
// first shape that disagrees with the config.              // model/checkpoint.cpp
void validate_checkpoint(const Checkpoint& checkpoint);

}  // namespace lmpack
