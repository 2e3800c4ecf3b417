// Reader for llama2.c legacy (version 0) checkpoints, the format of run.c.
//
// Layout: a header of seven little-endian int32 (dim, hidden_dim, n_layers,
// n_heads, n_kv_heads, vocab_size, seq_len), then float32 arrays back to
// back: token_embedding [vocab, dim], rms_att [L, dim], wq [L, dim, dim],
// wk [L, kv_dim, dim], wv [L, kv_dim, dim], wo [L, dim, dim], rms_ffn [L, dim],
// w1 [L, hidden, dim], w2 [L, dim, hidden], w3 [L, hidden, dim],
// rms_final [dim], freq_cis_real [seq_len, head_dim/2], freq_cis_imag (same),
// and wcls [vocab, dim] only when vocab_size is stored negative (a separate
// classifier; positive means the classifier is the token embedding).
// The file size must match the header exactly. Tensors point into the
// mapping; the stacked per-layer arrays are cut with llama2c_layer_slice().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "io/tensor_info.h"

namespace lmpack {

struct Llama2cHeader {
  int64_t dim = 0;
  int64_t hidden_dim = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t vocab_size = 0;      // absolute value of the stored field
  int64_t seq_len = 0;
  bool shared_classifier = true;  // stored vocab_size > 0

  int64_t head_dim() const { return dim / n_heads; }
  int64_t kv_dim() const { return n_kv_heads * head_dim(); }
  std::string describe() const;  // "dim 64, hidden_dim 172, ..."
};

inline constexpr size_t kLlama2cHeaderBytes = 28;

struct Llama2cFile {
  std::string path;
  Llama2cHeader header;
  // File order, named as in run.c: token_embedding_table, rms_att_weight,
  // wq, wk, wv, wo, rms_ffn_weight, w1, w2, w3, rms_final_weight,
  // freq_cis_real, freq_cis_imag and (separate classifier only) wcls.
  // Per-layer arrays keep their leading [n_layers] dimension.
  std::vector<TensorInfo> tensors;
  std::shared_ptr<MappedFile> file;

  // Throws Error(path, "no tensor <name>") when absent.
  const TensorInfo& tensor(const std::string& name) const;
};

// Parses the header and checks it (positive and plausible sizes, heads
// dividing dim, KV heads dividing heads, even head_dim), then checks the file
// size exactly. Throws Error(path, ...) with the values involved.
Llama2cFile read_llama2c(const std::string& path);

// The same parser over bytes in memory (tests, fuzzing): `where` names them in
// errors, the caller keeps [data, data + size) alive, and Llama2cFile::file
// stays null.
Llama2cFile parse_llama2c(const uint8_t* data, size_t size, const std::string& where);

// Checks a header on its own; throws Error(where, ...).
void validate_llama2c_header(const Llama2cHeader& header, const std::string& where);

// Bytes a file with this (valid) header must have.
uint64_t llama2c_file_bytes(const Llama2cHeader& header);

// Layer `layer` of a stacked [n_layers, ...] tensor, as its own tensor with
// the leading dimension dropped and the given name.
TensorInfo llama2c_layer_slice(const TensorInfo& stacked, int64_t layer, std::string name);

}  // namespace lmpack
