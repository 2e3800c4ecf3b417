// The fuzz harnesses: one plain function per reader or parser that takes bytes
// from a user. Each is driven by its libFuzzer entry point (fuzz_main.cpp,
// built with -DLMPACK_BUILD_FUZZERS=ON, see scripts/fuzz.sh) and by the
// regression suite (regression_test.cpp, part of every build with tests),
// which replays the inputs committed under tests/fuzz/regressions/<name>/.
//
// A harness swallows lmpack::Error only, after checking that its message is
// one line naming the input (fuzz_check.h). Anything else escapes or aborts:
// another exception, a sanitizer report, a broken property (a tensor outside
// the input, a round trip that does not hold), so both drivers report it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lmpack::fuzz {

using HarnessFn = void (*)(const uint8_t* data, size_t size);

struct Harness {
  const char* name;     // tests/fuzz/regressions/<name>/, dict/<name>.dict, fuzz_<name>
  HarnessFn fn;
  bool needs_shared;    // loads real vocabularies from ../shared (fuzz_shared.h)
  size_t max_len;       // libFuzzer -max_len: inputs the format needs, no more
};

// Every harness, in the order scripts/fuzz.sh runs them.
const std::vector<Harness>& harnesses();

void fuzz_gguf(const uint8_t* data, size_t size);             // parse_gguf + every typed getter
void fuzz_gguf_model(const uint8_t* data, size_t size);       // + checkpoint_from_gguf, validation, vocabulary
void fuzz_safetensors(const uint8_t* data, size_t size);      // parse_safetensors (header + tensor bounds)
void fuzz_llama2c(const uint8_t* data, size_t size);          // parse_llama2c + checkpoint + validation
void fuzz_llama2c_vocab(const uint8_t* data, size_t size);    // tokenizer.bin -> Vocab -> tokenizer
void fuzz_hf_config(const uint8_t* data, size_t size);        // config.json, with a write/read round trip
void fuzz_tokenizer_json(const uint8_t* data, size_t size);   // tokenizer.json [\0 tokenizer_config.json]
void fuzz_imatrix(const uint8_t* data, size_t size);          // GGUF and legacy .dat imatrix
void fuzz_hf_quant(const uint8_t* data, size_t size);         // GPTQ/AWQ config [\0 safetensors]
void fuzz_recipe(const uint8_t* data, size_t size);           // recipe files (pipeline/recipe.h)
void fuzz_hf_model(const uint8_t* data, size_t size);         // config.json \0 safetensors -> checkpoint
void fuzz_tokenize_spm(const uint8_t* data, size_t size);     // arbitrary bytes through real SPM vocabularies
void fuzz_tokenize_bpe(const uint8_t* data, size_t size);     // ... through real byte-level BPE vocabularies

}  // namespace lmpack::fuzz
