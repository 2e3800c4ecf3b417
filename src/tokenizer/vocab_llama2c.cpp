// load_llama2c_vocab(): llama2.c's tokenizer.bin. Layout (little endian):
//   int32 max_token_length
//   per token, until the end of the file: float32 score, int32 len, len bytes
// The vocabulary size is implied by the file. Pieces are re-spelled in GGUF
// terms so the result equals a GGUF-embedded SPM vocabulary: " " -> "▁",
// "\n<s>\n" -> "<s>" (BOS, control), "\n</s>\n" -> "</s>" (EOS, control),
// "<unk>" unknown, "<0xXX>" byte tokens, everything else normal.
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/printable.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace {

constexpr int32_t kMaxTokenLength = 1 << 16;  // no real piece comes near this
// Real vocabularies hold up to a few hundred thousand tokens; each costs tens
// of bytes of RAM for as little as 8 bytes of file.
constexpr size_t kMaxTokens = size_t{1} << 22;

bool is_byte_piece(const std::string& piece) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
  return piece.size() == 6 && piece.compare(0, 3, "<0x") == 0 && hex(piece[3]) && hex(piece[4]) && piece[5] == '>';
}

std::string spell_spaces(const std::string& raw) {
  std::string piece;
  piece.reserve(raw.size() + 8);
  for (char c : raw) {
    if (c == ' ') {
      piece += "\xE2\x96\x81";  // "▁"
    } else {
      piece.push_back(c);
    }
  }
  return piece;
}

}  // namespace

Vocab parse_llama2c_vocab(const uint8_t* data, size_t size, const std::string& path) {
  ByteReader reader(data, size, path);
  const int32_t max_token_length = reader.read<int32_t>("max_token_length");
  if (max_token_length <= 0 || max_token_length > kMaxTokenLength)
    throw Error(path, cat("max_token_length is ", max_token_length, ", expected 1..", kMaxTokenLength,
                          " (is this a llama2.c tokenizer.bin?)"));

  Vocab vocab;
  vocab.model = "llama";
  vocab.pre = "default";
  vocab.add_bos = true;
  vocab.add_eos = false;
  vocab.add_space_prefix = true;
  while (reader.remaining() > 0) {
    const size_t id = vocab.tokens.size();
    if (id >= kMaxTokens)
      throw Error(path, cat("tokenizer.bin holds more than ", kMaxTokens, " tokens (", reader.remaining(),
                            " bytes left at offset ", reader.offset(), ")"));
    const std::string what = cat("token ", id);
    const float score = reader.read<float>(what + " score");
    const int32_t len = reader.read<int32_t>(what + " length");
    if (len < 0 || len > max_token_length)
      throw Error(path, cat(what, " at offset ", reader.offset() - 4, " has length ", len,
                            ", expected 0..max_token_length (", max_token_length, ")"));
    std::string raw = reader.read_string(static_cast<uint64_t>(len), what + " bytes");
    if (!std::isfinite(score)) throw Error(path, cat(what, " ('", printable(raw), "') has a non-finite score"));

    TokenType type = TokenType::kNormal;
    std::string piece;
    if (raw == "\n<s>\n" || raw == "<s>") {
      piece = "<s>";
      type = TokenType::kControl;
      if (vocab.bos_id < 0) vocab.bos_id = static_cast<int32_t>(id);
    } else if (raw == "\n</s>\n" || raw == "</s>") {
      piece = "</s>";
      type = TokenType::kControl;
      if (vocab.eos_id < 0) vocab.eos_id = static_cast<int32_t>(id);
    } else if (raw == "<unk>") {
      piece = raw;
      type = TokenType::kUnknown;
      if (vocab.unk_id < 0) vocab.unk_id = static_cast<int32_t>(id);
    } else if (is_byte_piece(raw)) {
      piece = raw;
      type = TokenType::kByte;
    } else {
      piece = spell_spaces(raw);
    }
    vocab.tokens.push_back(std::move(piece));
    vocab.scores.push_back(score);
    vocab.token_types.push_back(type);
  }
  if (vocab.tokens.empty()) throw Error(path, "tokenizer.bin holds no tokens after its 4-byte header");
  return vocab;
}

Vocab load_llama2c_vocab(const std::string& path) {
  auto file = MappedFile::open(path);
  return parse_llama2c_vocab(file->data(), file->size(), path);
}

}  // namespace lmpack
