// load_vocab: which reader a file needs (a folder's tokenizer.json, a GGUF,
// a tokenizer.json, else a llama2.c tokenizer.bin), and check_vocab_fits,
// the one test that a vocabulary belongs to a model's embedding.
#include <filesystem>

#include "core/error.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxVocabPaddingFraction = 32;

}  // namespace

void check_vocab_fits(const Vocab& vocab, int64_t embedding_rows, const std::string& where) {
  if (vocab.size() > embedding_rows)
    throw Error(where, cat("vocabulary has ", vocab.size(), " tokens but token_embd.weight has only ", embedding_rows,
                           " rows"));
  // Fewer tokens than embedding rows is how exports pad the embedding to a
  // multiple of 64 or 128 (Qwen2.5: 151665 tokens, 151936 rows; Phi-3: 32011,
  // 32064). A bigger gap means a vocabulary from another model, whose text
  // would tokenize to the wrong ids (or to <unk> throughout).
  if (embedding_rows - vocab.size() > embedding_rows / kMaxVocabPaddingFraction)
    throw Error(where, cat("vocabulary has ", count_of(vocab.size(), "token"), " but token_embd.weight has ",
                           embedding_rows, " rows: not this model's tokenizer? (padding of at most 1/",
                           kMaxVocabPaddingFraction, " of the rows is accepted)"));
}

Vocab load_vocab(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path, "no such file or directory");
  if (fs::is_directory(path)) {
    const fs::path json = fs::path(path) / "tokenizer.json";
    if (!fs::exists(json)) throw Error(path, "is a directory without tokenizer.json");
    return load_tokenizer_json_vocab(json.string());
  }
  if (is_gguf_file(path)) {
    const GgufFile g = read_gguf(path);
    Vocab v = vocab_from_gguf(g);
    // A model file's vocabulary must fit its own embedding, as at load.
    for (const TensorInfo& t : g.tensors)
      if (t.name == "token_embd.weight" && t.shape.size() == 2) check_vocab_fits(v, t.shape[0], path);
    return v;
  }
  if (path.ends_with(".json")) return load_tokenizer_json_vocab(path);
  return load_llama2c_vocab(path);
}

}  // namespace lmpack
