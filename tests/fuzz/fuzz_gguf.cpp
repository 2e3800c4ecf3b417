// Harnesses over GGUF bytes: the container (parse_gguf, every typed getter on
// every key, tensors inside the input) and the model on top of it
// (checkpoint_from_gguf, validate_checkpoint, the vocabulary's tokenizer).
#include "core/dtype.h"
#include "formats/format_sizes.h"
#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "fuzz_shared.h"
#include "io/gguf.h"
#include "model/load_gguf.h"
#include "model/loaders.h"

namespace lmpack::fuzz {
namespace {

void check_tensors(const GgufFile& g, const uint8_t* data, size_t size) {
  for (const TensorInfo& t : g.tensors) {
    LMPACK_FUZZ_CHECK(t.data >= data && t.nbytes <= size && t.data - data <= static_cast<ptrdiff_t>(size - t.nbytes),
                      "tensor outside the input");
    LMPACK_FUZZ_CHECK(t.nbytes == dtype_bytes(t.dtype, t.n_elements()), "tensor byte count");
  }
}

}  // namespace

void fuzz_gguf(const uint8_t* data, size_t size) {
  run_checked([&] {
    const GgufFile g = parse_gguf(data, size, kWhere);
    check_tensors(g, data, size);
    // Every getter either returns or throws a checked Error, whatever the type.
    for (const auto& kv : g.metadata) {
      const std::string& key = kv.first;
      const GgufValue& value = kv.second;
      run_checked([&] { g.get_int(key); });
      run_checked([&] { g.get_float(key); });
      run_checked([&] { g.get_string(key); });
      run_checked([&] { g.get_bool(key); });
      run_checked([&] { g.get_string_array(key); });
      run_checked([&] { g.get_float_array(key); });
      run_checked([&] { g.get_int_array(key); });
      if (value.type == GgufType::kArray) {
        const size_t n = value.array.size();
        for (size_t k = 0; k < n && k < 64; ++k) LMPACK_FUZZ_CHECK(value.array[k].type == value.array.type());
      }
    }
  });
}

void fuzz_gguf_model(const uint8_t* data, size_t size) {
  run_checked([&] {
    Checkpoint c = checkpoint_from_gguf(parse_gguf(data, size, kWhere));
    run_checked([&] { validate_checkpoint(c); });
    if (c.vocab) exercise_vocab(*c.vocab, kWhere);
  });
}

}  // namespace lmpack::fuzz
