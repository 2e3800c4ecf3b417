// Fixtures the pipeline tests share: the llama2.c models of ../shared with the
// stories260K tokenizer (tok512.bin), and TinyStories validation text, whole
// or cut into calibration windows. Tests using them call
// LMPACK_REQUIRE_SHARED() first.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "eval/calibration.h"
#include "model/checkpoint.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace lmpack::testing {

// A llama2.c .bin under ../shared (relative path) loaded with tok512.bin.
inline Checkpoint load_with_tok512(const std::string& model) {
  LoadOptions o;
  o.tokenizer_path = shared_path("models/stories260K/tok512.bin");
  return load_checkpoint(shared_path(model), o);
}

inline Checkpoint load_stories260k() { return load_with_tok512("models/stories260K/stories260K.bin"); }

inline std::string tinystories_valid_path() {
  return shared_path("data/tinystories-valid/tinystories_valid_first1000.txt");
}

// The whole text of the first 1000 TinyStories validation stories.
inline std::string tinystories_valid_text() {
  std::ifstream in(tinystories_valid_path(), std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `samples` random windows of `ctx` tokens of that text, tokenized with c's own tokenizer.
inline std::vector<std::vector<int32_t>> story_windows(const Checkpoint& c, int64_t samples, int64_t ctx,
                                                       uint64_t seed) {
  std::unique_ptr<Tokenizer> tok = make_tokenizer(*c.vocab, c.path);
  CalibrationOptions o;
  o.files = {tinystories_valid_path()};
  o.samples = samples;
  o.ctx = ctx;
  o.seed = seed;
  return calibration_windows(*tok, o);
}

}  // namespace lmpack::testing
