// harnesses(): the table scripts/fuzz.sh, the libFuzzer targets and the
// regression suite share. max_len is what the format's seeds need: headers
// and tiny models, a few KB of text for the tokenizers (longer texts only
// slow the search down). scripts/fuzz.sh reads this table with grep: keep
// one {"name", fuzz_name, needs_shared, max_len} row per line.
#include "fuzz_harness.h"

namespace lmpack::fuzz {

const std::vector<Harness>& harnesses() {
  static const std::vector<Harness> table = {
      {"gguf", fuzz_gguf, false, 65536},
      {"gguf_model", fuzz_gguf_model, false, 65536},
      {"safetensors", fuzz_safetensors, false, 16384},
      {"llama2c", fuzz_llama2c, false, 4096},
      {"llama2c_vocab", fuzz_llama2c_vocab, false, 8192},
      {"hf_config", fuzz_hf_config, false, 4096},
      {"tokenizer_json", fuzz_tokenizer_json, false, 32768},
      {"imatrix", fuzz_imatrix, false, 8192},
      {"hf_quant", fuzz_hf_quant, false, 8192},
      {"hf_model", fuzz_hf_model, false, 16384},
      {"recipe", fuzz_recipe, false, 4096},
      {"tokenize_spm", fuzz_tokenize_spm, true, 2048},
      {"tokenize_bpe", fuzz_tokenize_bpe, true, 2048},
  };
  return table;
}

}  // namespace lmpack::fuzz
