// Reading a vocabulary (tokenizer/vocab.h) from each file that can hold one,
// and load_vocab(), which tells them apart. Each throws Error(<file>, ...)
// naming the file and the problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "io/gguf.h"
#include "tokenizer/vocab.h"

namespace lmpack {

// Any file that holds a vocabulary: a GGUF (possibly vocabulary-only; a model
// file's vocabulary must fit its own token_embd.weight), a llama2.c
// tokenizer.bin, a tokenizer.json, or a Hugging Face folder with one.
Vocab load_vocab(const std::string& path);                     // tokenizer/load_vocab.cpp

Vocab vocab_from_gguf(const GgufFile& gguf);                   // tokenizer/vocab_gguf.cpp
Vocab load_llama2c_vocab(const std::string& path);             // tokenizer/vocab_llama2c.cpp
// The same over bytes in memory; `where` names them in errors.
Vocab parse_llama2c_vocab(const uint8_t* data, size_t size, const std::string& where);
// tokenizer.json (+ tokenizer_config.json beside it for BOS/EOS/add_bos).
Vocab load_tokenizer_json_vocab(const std::string& path);      // tokenizer/vocab_tokenizer_json.cpp
// The same over text in memory; `config` is tokenizer_config.json's text (or null).
struct TokenizerConfigText {
  std::string text;
  std::string where;
};
Vocab parse_tokenizer_json_vocab(std::string_view json, const std::string& where,
                                 const TokenizerConfigText* config = nullptr);

// Throws Error(where, ...) when a vocabulary cannot be the one of a model with
// this many embedding rows: more tokens than rows, or fewer by more than the
// padding exports add (1/32 of the rows).             // tokenizer/load_vocab.cpp
void check_vocab_fits(const Vocab& vocab, int64_t embedding_rows, const std::string& where);

}  // namespace lmpack
