// A job's model and vocabulary; see load_model.h.
#include "model/load_model.h"

#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace fs = std::filesystem;

namespace {

void require_tokenizer_file(const std::string& tokenizer) {
  std::error_code ec;
  if (!tokenizer.empty() && !fs::exists(tokenizer, ec))
    throw Error("tokenizer", cat(tokenizer, ": no such file or directory"));
}

void require_model_file(const std::string& model) {
  std::error_code ec;
  if (!fs::exists(model, ec)) throw Error(model, "no such file or directory");
}

const char* const kNoVocabulary = "has no vocabulary; pass `tokenizer` (a tokenizer.bin, tokenizer.json or GGUF)";

}  // namespace

Checkpoint load_model(const std::string& model, const std::string& tokenizer) {
  require_model_file(model);
  require_tokenizer_file(tokenizer);
  LoadOptions options;
  options.tokenizer_path = tokenizer;
  return load_checkpoint(model, options);
}

std::unique_ptr<Tokenizer> tokenizer_for(const Checkpoint& checkpoint) {
  if (!checkpoint.vocab) throw Error(checkpoint.path, kNoVocabulary);
  return make_tokenizer(*checkpoint.vocab, checkpoint.path);
}

Vocab load_vocab_for(const std::string& model, const std::string& tokenizer) {
  require_model_file(model);
  if (!tokenizer.empty()) {
    require_tokenizer_file(tokenizer);
    return load_vocab(tokenizer);
  }
  if (fs::is_directory(model) || model.ends_with(".json") || is_gguf_file(model)) return load_vocab(model);
  // A llama2.c checkpoint: its loader finds tokenizer.bin beside it.
  Checkpoint ckpt = load_checkpoint(model);
  if (!ckpt.vocab) throw Error(model, kNoVocabulary);
  return std::move(*ckpt.vocab);
}

void check_token_ids(const std::vector<int32_t>& ids, const Checkpoint& checkpoint, const std::string& where) {
  const int64_t vocab = checkpoint.config.vocab_size;
  for (int32_t id : ids)
    if (id < 0 || id >= vocab)
      throw Error(where, cat("token id ", id, " is outside the model's vocabulary of ", vocab,
                             " (tokenizer does not match the model?)"));
}

std::string beyond_context_warning(const std::string& field, int64_t tokens, const Checkpoint& checkpoint) {
  const int64_t trained = checkpoint.config.context_length;
  if (trained <= 0 || tokens <= trained) return "";
  return cat("`", field, "` ", tokens, " exceeds the model's context of ", trained, " tokens (", checkpoint.path,
             "); positions past it are extrapolated");
}

}  // namespace lmpack
