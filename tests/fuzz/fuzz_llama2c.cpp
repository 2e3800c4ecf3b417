// Harnesses over llama2.c bytes: a checkpoint (parse_llama2c, then the model
// and its shape validation) and a tokenizer.bin (the vocabulary and its
// tokenizer).
#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "fuzz_shared.h"
#include "io/llama2c.h"
#include "model/loaders.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack::fuzz {

void fuzz_llama2c(const uint8_t* data, size_t size) {
  run_checked([&] {
    const Llama2cFile file = parse_llama2c(data, size, kWhere);
    uint64_t total = kLlama2cHeaderBytes;
    for (const TensorInfo& t : file.tensors) {
      LMPACK_FUZZ_CHECK(t.data >= data && t.data + t.nbytes <= data + size, "tensor outside the input");
      total += t.nbytes;
    }
    LMPACK_FUZZ_CHECK(total == size, "tensors do not cover the file");
    const Checkpoint c = checkpoint_from_llama2c(file);
    validate_checkpoint(c);
  });
}

void fuzz_llama2c_vocab(const uint8_t* data, size_t size) {
  run_checked([&] {
    const Vocab v = parse_llama2c_vocab(data, size, kWhere);
    LMPACK_FUZZ_CHECK(v.scores.size() == v.tokens.size() && v.token_types.size() == v.tokens.size());
    exercise_vocab(v, kWhere);
  });
}

}  // namespace lmpack::fuzz
