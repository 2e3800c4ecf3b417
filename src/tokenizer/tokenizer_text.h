// Text helpers shared by the tokenizers (internal to src/model): UTF-8 code
// point lengths, GPT-2's byte <-> unicode mapping for byte-level BPE, and the
// split of raw text around tokens that must match literally (user-defined
// tokens, as llama.cpp's tokenizer_st_partition does with parse_special off).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace lmpack {

// Length in bytes of the UTF-8 sequence that starts with `lead` (1 for a
// continuation or invalid byte, so that any byte string splits into pieces).
inline size_t utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Appends the UTF-8 encoding of code point `cp` to `out`.
void utf8_append(std::string& out, uint32_t cp);

// Splits `text` into UTF-8 characters (truncated sequences stay whole bytes).
std::vector<std::string_view> utf8_chars(std::string_view text);

// GPT-2's bytes_to_unicode(): printable bytes map to themselves, the other 68
// bytes to U+0100 upward, in byte order. Index = byte, value = UTF-8 text.
const std::array<std::string, 256>& byte_to_unicode_table();
// The inverse, for one code point: the byte, or -1 when `cp` is not one of
// the 256 mapped code points.
int unicode_to_byte(uint32_t cp);
// Decodes byte-level text ("Ġworld" -> " world"); code points outside the
// mapping are copied through unchanged.
std::string byte_level_decode(std::string_view text);
// Encodes raw bytes to byte-level text (" world" -> "Ġworld").
std::string byte_level_encode(std::string_view bytes);

// A piece of input: raw text to tokenize, or one token matched literally.
struct TextFragment {
  std::string_view text;  // raw text (empty when `token` >= 0)
  int32_t token = -1;
};

// Splits text around the literal occurrences of `specials` (ids into
// vocab.tokens), longest token first, as llama.cpp does.
class SpecialSplitter {
 public:
  // Takes the tokens of type kUserDefined (and kControl when
  // `include_control`) whose text is non-empty.
  SpecialSplitter(const Vocab& vocab, bool include_control);
  std::vector<TextFragment> split(std::string_view text) const;
  bool empty() const { return specials_.empty(); }

 private:
  std::vector<std::pair<std::string, int32_t>> specials_;  // longest first
};

}  // namespace lmpack
