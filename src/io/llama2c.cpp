#include "io/llama2c.h"

#include "core/error.h"

namespace lmpack {
namespace {

// Sizes beyond these are treated as a corrupt header rather than a model.
constexpr int64_t kMaxDim = int64_t{1} << 16;
constexpr int64_t kMaxHidden = int64_t{1} << 18;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxVocab = int64_t{1} << 24;
constexpr int64_t kMaxSeqLen = int64_t{1} << 24;

struct ArraySpec {
  const char* name;
  std::vector<int64_t> shape;
};

// The arrays of a checkpoint in file order.
std::vector<ArraySpec> array_specs(const Llama2cHeader& h) {
  const int64_t L = h.n_layers, d = h.dim, f = h.hidden_dim, kv = h.kv_dim();
  const int64_t q = h.n_heads * h.head_dim();
  std::vector<ArraySpec> specs = {
      {"token_embedding_table", {h.vocab_size, d}},
      {"rms_att_weight", {L, d}},
      {"wq", {L, q, d}},
      {"wk", {L, kv, d}},
      {"wv", {L, kv, d}},
      {"wo", {L, d, q}},
      {"rms_ffn_weight", {L, d}},
      {"w1", {L, f, d}},
      {"w2", {L, d, f}},
      {"w3", {L, f, d}},
      {"rms_final_weight", {d}},
      {"freq_cis_real", {h.seq_len, h.head_dim() / 2}},
      {"freq_cis_imag", {h.seq_len, h.head_dim() / 2}},
  };
  if (!h.shared_classifier) specs.push_back({"wcls", {h.vocab_size, d}});
  return specs;
}

uint64_t elements(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t v : shape) n *= static_cast<uint64_t>(v);
  return n;
}

}  // namespace

std::string Llama2cHeader::describe() const {
  return cat("dim ", dim, ", hidden_dim ", hidden_dim, ", n_layers ", n_layers, ", n_heads ", n_heads,
             ", n_kv_heads ", n_kv_heads, ", vocab_size ", shared_classifier ? "" : "-", vocab_size,
             ", seq_len ", seq_len);
}

void validate_llama2c_header(const Llama2cHeader& h, const std::string& where) {
  auto in_range = [&](int64_t v, int64_t max, const char* name) {
    if (v <= 0 || v > max)
      throw Error(where, cat("llama2.c header field ", name, " is ", v, ", expected 1..", max,
                             " (not a llama2.c checkpoint, or a corrupt header?)"));
  };
  in_range(h.dim, kMaxDim, "dim");
  in_range(h.hidden_dim, kMaxHidden, "hidden_dim");
  in_range(h.n_layers, kMaxLayers, "n_layers");
  in_range(h.n_heads, h.dim, "n_heads");
  in_range(h.n_kv_heads, h.n_heads, "n_kv_heads");
  in_range(h.vocab_size, kMaxVocab, "vocab_size (absolute value)");
  in_range(h.seq_len, kMaxSeqLen, "seq_len");
  if (h.dim % h.n_heads != 0)
    throw Error(where, cat("llama2.c header: n_heads ", h.n_heads, " does not divide dim ", h.dim));
  if (h.n_heads % h.n_kv_heads != 0)
    throw Error(where, cat("llama2.c header: n_kv_heads ", h.n_kv_heads, " does not divide n_heads ",
                           h.n_heads));
  if (h.head_dim() % 2 != 0)
    throw Error(where, cat("llama2.c header: head dimension ", h.head_dim(), " (dim ", h.dim, " / n_heads ",
                           h.n_heads, ") is odd; RoPE needs pairs"));
}

uint64_t llama2c_file_bytes(const Llama2cHeader& h) {
  uint64_t floats = 0;
  for (const ArraySpec& s : array_specs(h)) floats += elements(s.shape);
  return kLlama2cHeaderBytes + 4 * floats;
}

const TensorInfo& Llama2cFile::tensor(const std::string& name) const {
  for (const TensorInfo& t : tensors)
    if (t.name == name) return t;
  throw Error(path, cat("no tensor ", name));
}

Llama2cFile parse_llama2c(const uint8_t* data, size_t size, const std::string& path) {
  Llama2cFile out;
  out.path = path;
  if (size < kLlama2cHeaderBytes)
    throw Error(path, cat("size is ", size, " bytes, too small for the ", kLlama2cHeaderBytes,
                          "-byte llama2.c header"));
  ByteReader r(data, size, path);
  int32_t f[7];
  for (int32_t& v : f) v = r.read<int32_t>("llama2.c header");
  Llama2cHeader& h = out.header;
  h.dim = f[0];
  h.hidden_dim = f[1];
  h.n_layers = f[2];
  h.n_heads = f[3];
  h.n_kv_heads = f[4];
  h.shared_classifier = f[5] > 0;
  h.vocab_size = f[5] < 0 ? -static_cast<int64_t>(f[5]) : f[5];
  h.seq_len = f[6];
  validate_llama2c_header(h, path);

  const uint64_t expected = llama2c_file_bytes(h);
  if (size != expected)
    throw Error(path, cat("size is ", size, " bytes, expected ", expected, " for header (", h.describe(), ")"));

  uint64_t offset = kLlama2cHeaderBytes;
  for (ArraySpec& s : array_specs(h)) {
    TensorInfo t;
    t.name = s.name;
    t.dtype = DType::F32;
    t.nbytes = 4 * elements(s.shape);
    t.shape = std::move(s.shape);
    t.data = data + offset;
    offset += t.nbytes;
    out.tensors.push_back(std::move(t));
  }
  LMPACK_CHECK(offset == size);
  return out;
}

Llama2cFile read_llama2c(const std::string& path) {
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  Llama2cFile out = parse_llama2c(file->data(), file->size(), path);
  out.file = std::move(file);
  return out;
}

TensorInfo llama2c_layer_slice(const TensorInfo& stacked, int64_t layer, std::string name) {
  LMPACK_CHECK(!stacked.shape.empty() && layer >= 0 && layer < stacked.shape[0],
               cat(stacked.name, ": layer ", layer, " out of range"));
  TensorInfo t;
  t.name = std::move(name);
  t.dtype = stacked.dtype;
  t.shape.assign(stacked.shape.begin() + 1, stacked.shape.end());
  t.nbytes = stacked.nbytes / static_cast<size_t>(stacked.shape[0]);
  t.data = stacked.data + static_cast<size_t>(layer) * t.nbytes;
  return t;
}

}  // namespace lmpack
