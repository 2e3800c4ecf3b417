// A tokenizer's vocabulary as data, in GGUF's tokenizer.ggml.* terms, filled
// by every vocabulary reader (GGUF metadata, llama2.c tokenizer.bin, HF
// tokenizer.json) and turned into an encoder by make_tokenizer().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmpack {

enum class TokenType : int32_t {  // GGUF tokenizer.ggml.token_type values
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct Vocab {
  // "llama": SentencePiece-style BPE by scores, "▁" for space, <0xXX> byte
  // fallback. "gpt2": byte-level BPE by merge rank with a pre-tokenizer regex.
  std::string model = "llama";
  std::string pre = "default";  // GGUF tokenizer.ggml.pre: "default", "llama-bpe", "qwen2", "gpt-2", ...
  std::vector<std::string> tokens;  // pieces as stored (SPM: "▁" spelled; gpt2: byte-to-unicode spelled)
  std::vector<float> scores;        // SPM merge priority (empty for gpt2)
  std::vector<TokenType> token_types;
  std::vector<std::string> merges;  // gpt2: "a b" in rank order
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
  bool add_bos = true;
  bool add_eos = false;
  bool add_space_prefix = true;  // SPM: prepend "▁" to the text

  int64_t size() const { return static_cast<int64_t>(tokens.size()); }
};

}  // namespace lmpack
