// Hugging Face tokenizer files written from a vocabulary (tokenizer/vocab.h),
// so that a folder lmpack exports tokenizes as the model's vocabulary does
// (transformers' PreTrainedTokenizerFast loads tokenizer.json as it is):
//
//  - "llama" (SentencePiece-style BPE by score): a BPE model with
//    byte_fallback, "▁" for spaces (normalizer Prepend "▁" when the vocabulary
//    adds a space prefix, then Replace " " -> "▁"), and merges made from the
//    scores the way transformers' SentencePiece converter makes them: every
//    split of a token into two tokens is a merge, ranked by the merged token's
//    score, best first (ties by the pieces' ids). A BPE by rank over those
//    merges picks the pair a score-driven SentencePiece merge picks.
//  - "gpt2" (byte-level BPE): the vocabulary's pieces and merges as stored, a
//    Split pre-tokenizer with the pre name's regex and a ByteLevel one, the
//    ByteLevel decoder; ignore_merges where the pre name has it (Llama 3).
// Control tokens are added_tokens marked special, user-defined ones plain
// added_tokens; BOS/EOS go into a TemplateProcessing post-processor when the
// vocabulary adds them. tokenizer_config.json names BOS/EOS/UNK/PAD and
// add_bos_token/add_eos_token; special_tokens_map.json the same tokens.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/vocab.h"

namespace lmpack {

struct HfTokenizerFiles {
  std::string tokenizer_json;
  std::string tokenizer_config_json;
  std::string special_tokens_map_json;
};

// `model_max_length` goes into tokenizer_config.json. Throws Error(where, ...)
// for a vocabulary with no tokenizer.json form lmpack writes (a byte-level
// pre-tokenizer with no single-regex spelling, an unknown model).
HfTokenizerFiles hf_tokenizer_files(const Vocab& vocab, int64_t model_max_length, const std::string& where);

}  // namespace lmpack
