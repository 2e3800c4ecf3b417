// Checkpoint accessors, format detection (load_checkpoint) and the
// one shape validation that every loader's output goes through.
#include "model/checkpoint.h"

#include <filesystem>

#include "core/error.h"
#include "formats/format_sizes.h"
#include "model/loaders.h"
#include "model/save_gguf.h"
#include "model/tensor_names.h"

namespace lmpack {
namespace fs = std::filesystem;

namespace {

void check_exists(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path, "no such file or directory");
}

}  // namespace

const TensorInfo* Checkpoint::find(const std::string& name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

const TensorInfo& Checkpoint::tensor(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (t == nullptr) throw Error(path, cat("missing tensor ", name));
  return *t;
}

int64_t Checkpoint::parameter_count() const {
  int64_t n = 0;
  for (const auto& [name, t] : tensors) n += t.n_elements();
  return n;
}

void Checkpoint::set_f32(const std::string& name, std::vector<int64_t> shape, std::vector<float> values) {
  auto buffer = std::make_shared<std::vector<float>>(std::move(values));
  TensorInfo t;
  t.name = name;
  t.dtype = DType::F32;
  t.shape = std::move(shape);
  LMPACK_CHECK(static_cast<int64_t>(buffer->size()) == t.n_elements(), cat(name, ": wrong element count"));
  t.data = reinterpret_cast<const uint8_t*>(buffer->data());
  t.nbytes = buffer->size() * sizeof(float);
  tensors[name] = std::move(t);
  keep_alive.push_back(std::move(buffer));
}

uint64_t Checkpoint::tensor_bytes() const {
  uint64_t n = 0;
  for (const auto& [name, t] : tensors) n += t.nbytes;
  return n;
}

void validate_checkpoint(const Checkpoint& c) {
  const ModelConfig& cfg = c.config;
  cfg.validate(c.path);
  auto expect = [&](const std::string& name, std::vector<int64_t> shape) {
    const TensorInfo* t = c.find(name);
    if (t == nullptr) throw Error(c.path, cat("missing tensor ", name));
    if (t->shape != shape)
      throw Error(c.path, cat("tensor ", name, " has shape ", shape_string(t->shape), ", expected ",
                              shape_string(shape)));
    if (!dtype_row_fits(t->dtype, t->cols()))
      throw Error(c.path, cat("tensor ", name, " has rows of ", t->cols(), " elements, not a multiple of the ",
                              dtype_name(t->dtype), " block"));
    const size_t bytes = dtype_bytes(t->dtype, t->n_elements());
    if (t->nbytes != bytes || (t->data == nullptr && bytes != 0))
      throw Error(c.path, cat("tensor ", name, " holds ", t->nbytes, " bytes, expected ", bytes, " for ",
                              dtype_name(t->dtype), " ", shape_string(t->shape)));
  };
  for (const TensorShape& t : model_tensor_shapes(cfg)) expect(t.name, t.shape);
  if (c.find("rope_freqs.weight") != nullptr) expect("rope_freqs.weight", {cfg.rope_dims() / 2});
  // Blocks beyond the configured count would be silently ignored: a model
  // run truncated, with exit 0. Name the first such tensor instead.
  for (const auto& [name, t] : c.tensors) {
    int64_t block = 0;
    std::string rest;
    if (split_block(name, &block, &rest) && block >= cfg.n_layers)
      throw Error(c.path, cat("tensor ", name, " belongs to block ", block, " but the config has ",
                              count_of(cfg.n_layers, "block"), " (block_count / num_hidden_layers too small?)"));
  }
  if (c.vocab) check_vocab_fits(*c.vocab, cfg.vocab_size, c.path);
}

Checkpoint load_checkpoint(const std::string& path, const LoadOptions& options) {
  check_exists(path);
  Checkpoint c;
  if (fs::is_directory(path)) {
    if (!fs::exists(fs::path(path) / "config.json"))
      throw Error(path, "is a directory without config.json (expected a Hugging Face checkpoint folder)");
    c = load_hf_checkpoint(path);
  } else if (is_gguf_file(path)) {
    c = load_gguf_checkpoint(path);
  } else {
    c = load_llama2c_checkpoint(path);
    if (options.tokenizer_path.empty()) {
      const fs::path beside = fs::path(path).parent_path() / "tokenizer.bin";
      if (fs::is_regular_file(beside)) c.vocab = load_llama2c_vocab(beside.string());
    }
  }
  if (!options.tokenizer_path.empty()) c.vocab = load_vocab(options.tokenizer_path);
  validate_checkpoint(c);
  return c;
}

}  // namespace lmpack
