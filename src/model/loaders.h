// The per-format loaders behind load_checkpoint() (checkpoint.h).
// Each maps its format's names and hyperparameters onto the internal ones;
// load_checkpoint() then validates shapes once for all of them.
#pragma once

#include <string>
#include <string_view>

#include "io/gguf.h"
#include "io/llama2c.h"
#include "model/checkpoint.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {

Checkpoint load_gguf_checkpoint(const std::string& path);     // model/load_gguf.cpp
Checkpoint load_hf_checkpoint(const std::string& dir);        // model/load_hf.cpp
Checkpoint load_llama2c_checkpoint(const std::string& path);  // model/load_llama2c.cpp
// An already parsed llama2.c file (read_llama2c, or parse_llama2c over bytes
// in memory); its mapping, if any, goes into keep_alive.
Checkpoint checkpoint_from_llama2c(const Llama2cFile& file);  // model/load_llama2c.cpp

// Throws Error(checkpoint.path, ...) naming the first missing tensor or the
// first shape that disagrees with the config.              // model/checkpoint.cpp
void validate_checkpoint(const Checkpoint& checkpoint);

}  // namespace lmpack
