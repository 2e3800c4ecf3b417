// Helpers shared by the harnesses: where the real vocabularies in ../shared
// are, and what every harness does with a vocabulary it managed to read
// (build its tokenizer, encode and decode, check the ids).
#pragma once

#include <string>
#include <string_view>

#include "tokenizer/vocab.h"

namespace lmpack::fuzz {

// LMPACK_SHARED_DIR when set, else <source>/../shared; "" when absent.
std::string shared_dir();
// shared_dir() + "/" + relative; aborts (fail()) when ../shared is absent.
std::string shared_path(const std::string& relative);

// make_tokenizer(vocab) and, when that succeeds, encodes a few fixed texts and
// decodes the first ids: every id must be inside the vocabulary, and only
// lmpack::Error (checked, naming `where`) may come out.
void exercise_vocab(const Vocab& vocab, const std::string& where);

}  // namespace lmpack::fuzz

namespace lmpack {
class Tokenizer;
}

namespace lmpack::fuzz {

// Decodes token ids read from `bytes` (two bytes each, spread a little past
// the vocabulary so that out-of-range ids are tried too): each id either
// decodes or throws a checked Error naming `where`.
void decode_ids_from_bytes(const Tokenizer& tokenizer, std::string_view bytes, const std::string& where);

// Whether `text` is well-formed UTF-8.
bool is_utf8(std::string_view text);

}  // namespace lmpack::fuzz
