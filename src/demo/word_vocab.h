// A SentencePiece-style vocabulary (Vocab model "llama") that holds every
// word of a text whole: "▁word" and the chain of its prefixes ("▁w", "▁wo",
// ...) so that the score-ordered pair merges of the SPM tokenizer (lmpack's
// and llama.cpp's alike) build each word left to right; every character of
// the text as a piece; <unk>, <s>, </s> and the 256 byte tokens. Made for the
// demo's generated stories (demo/demo_corpus.h); any text works, words
// being runs of letters and apostrophes.
#pragma once

#include <string>

#include "tokenizer/vocab.h"

namespace lmpack {

Vocab word_vocab(const std::string& text);

}  // namespace lmpack
