#include "cli_common.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/output_path.h"

namespace lmpack::cli {

namespace fs = std::filesystem;

void add_threads_option(Command& command) {
  command.app->add_option("-t,--threads", *command.threads, "Threads (default: all hardware threads)");
}

void require_positive(const std::string& option, int64_t value) {
  if (value <= 0) throw Error(option, cat("must be a positive integer, got ", value));
}

void require_non_negative(const std::string& option, int64_t value) {
  if (value < 0) throw Error(option, cat("must be >= 0, got ", value));
}

void require_existing_path(const std::string& option_or_path, const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (option_or_path == path) throw Error(path, "no such file or directory");
    throw Error(option_or_path, cat(path, ": no such file or directory"));
  }
}

DType parse_float_dtype(const std::string& option, const std::string& value) {
  if (value == "f32" || value == "F32") return DType::F32;
  if (value == "f16" || value == "F16") return DType::F16;
  if (value == "bf16" || value == "BF16") return DType::BF16;
  throw Error(option, cat("unknown type '", value, "' (expected f32, f16 or bf16)"));
}

void warn_beyond_context(const std::string& option, int64_t tokens, const Checkpoint& checkpoint) {
  const int64_t trained = checkpoint.config.context_length;
  if (tokens > trained)
    std::fprintf(stderr, "lmpack: warning: %s %lld exceeds the model's context of %lld tokens (%s); positions past "
                 "it are extrapolated\n", option.c_str(), static_cast<long long>(tokens),
                 static_cast<long long>(trained), checkpoint.path.c_str());
}

Checkpoint load_model(const std::string& model, const std::string& tokenizer_path) {
  require_existing_path(model, model);
  if (!tokenizer_path.empty()) require_existing_path("--tokenizer", tokenizer_path);
  LoadOptions options;
  options.tokenizer_path = tokenizer_path;
  return load_checkpoint(model, options);
}

std::unique_ptr<Tokenizer> tokenizer_for(const Checkpoint& checkpoint) {
  if (!checkpoint.vocab)
    throw Error(checkpoint.path, "has no vocabulary; pass --tokenizer (a tokenizer.bin, tokenizer.json or GGUF)");
  return make_tokenizer(*checkpoint.vocab, checkpoint.path);
}

namespace {

bool starts_with_gguf_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::memcmp(magic, "GGUF", 4) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Vocab load_vocab_for(const std::string& model, const std::string& tokenizer_path) {
  require_existing_path(model, model);
  if (!tokenizer_path.empty()) {
    require_existing_path("--tokenizer", tokenizer_path);
    return load_vocab(tokenizer_path);
  }
  if (fs::is_directory(model) || ends_with(model, ".json") || starts_with_gguf_magic(model))
    return load_vocab(model);
  // A llama2.c checkpoint: its loader finds tokenizer.bin beside it.
  Checkpoint ckpt = load_checkpoint(model);
  if (!ckpt.vocab)
    throw Error(model, "has no vocabulary; pass --tokenizer (a tokenizer.bin, tokenizer.json or GGUF)");
  return std::move(*ckpt.vocab);
}


std::string format_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(u == 0 ? 0 : 2);
  out << v << " " << units[u];
  return out.str();
}

}  // namespace lmpack::cli
