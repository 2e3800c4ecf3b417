// Harness over tokenizer.json text, optionally followed by a NUL byte and a
// tokenizer_config.json (JSON text never holds a raw NUL): the vocabulary
// reader, then the tokenizer built from what it returns.
#include <string_view>

#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "fuzz_shared.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack::fuzz {

void fuzz_tokenizer_json(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string config_where = kWhere + "/tokenizer_config.json";
  TokenizerConfigText config;
  if (nul != std::string_view::npos) config = {std::string(input.substr(nul + 1)), config_where};
  run_checked(
      [&] {
        const Vocab v = parse_tokenizer_json_vocab(input.substr(0, nul), kWhere,
                                                   nul != std::string_view::npos ? &config : nullptr);
        LMPACK_FUZZ_CHECK(v.token_types.size() == v.tokens.size());
        exercise_vocab(v, kWhere);
      },
      {kWhere, config_where});
}

}  // namespace lmpack::fuzz
