// Streaming GGUF v3 writer. Metadata and tensor infos are declared first;
// then begin_data() writes the header, and each tensor's bytes are written
// in declaration order (offsets are known up front from dtype sizes), so a
// model of any size is written with one tensor in memory at a time. Output
// goes to a temporary name and appears at `path` only on finish().
//
// Layout as ggml writes it (a copy of llama.cpp's stories260K.gguf made with
// this writer is byte-identical): GGUF v3, keys in the order added,
// general.alignment (u32) added only when the alignment is not 32, every
// tensor offset and the end of every tensor's data padded with zeros to the
// alignment. The file (a temporary until finish()) is created by
// begin_data(), so a writer that only declares can measure: header_bytes().
// Misuse (a duplicate key or tensor, a name over 63 bytes, a row
// that does not fit the type's block, tensors out of declaration order, a
// wrong byte count, finish() with tensors unwritten) throws Error(path, ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "io/gguf.h"

namespace lmpack {

class GgufWriter {
 public:
  explicit GgufWriter(std::string path, uint64_t alignment = 32);

  // Metadata in the order added; a duplicate key throws. Typed helpers
  // build the GgufValue.
  void add(const std::string& key, GgufValue value);
  void add_u32(const std::string& key, uint32_t v);
  void add_i32(const std::string& key, int32_t v);
  void add_f32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_string(const std::string& key, const std::string& v);
  void add_string_array(const std::string& key, const std::vector<std::string>& v);
  void add_f32_array(const std::string& key, const std::vector<float>& v);
  void add_i32_array(const std::string& key, const std::vector<int32_t>& v);

  // Shape row-major {rows, cols} as everywhere in lmpack (written reversed as
  // GGUF ne[]). The innermost dimension must fit the type's block size.
  void add_tensor(const std::string& name, DType type, const std::vector<int64_t>& shape);

  void begin_data();  // writes magic, counts, metadata, tensor infos, padding
  // Bytes of the next declared tensor; nbytes must equal its size.
  void write_tensor(const std::string& name, const void* data, size_t nbytes);
  // Or in pieces: append(…) any number of times, then end_tensor().
  void append_tensor_bytes(const void* data, size_t nbytes);
  void end_tensor();
  void finish();  // checks every tensor was written, pads, renames into place

  // The output as the user knows it, for messages.
  const std::string& path() const { return shown_; }

  // Bytes before the tensor data as declared so far (magic, counts,
  // metadata, tensor infos, padding to the alignment), and the data
  // section's bytes (tensors with their padding).
  uint64_t header_bytes() const;
  uint64_t data_bytes() const;

 private:
  std::string encode_header() const;
  struct Pending {
    std::string name;
    DType type;
    std::vector<int64_t> shape;
    uint64_t offset;
    uint64_t nbytes;
  };
  std::string path_;
  std::string shown_;
  std::optional<AtomicFile> file_;  // from begin_data()
  uint64_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Pending> tensors_;
  uint64_t data_size_ = 0;
  size_t next_tensor_ = 0;
  uint64_t written_in_tensor_ = 0;
  uint64_t data_start_ = 0;
  bool data_begun_ = false;
};

}  // namespace lmpack
