// safetensors reader and streaming writer.
//
// Layout (huggingface/safetensors docs): an unsigned 64-bit little-endian
// header length N, N bytes of UTF-8 JSON, then the data section. The JSON maps
// each tensor name to {"dtype", "shape", "data_offsets": [begin, end)} with
// offsets relative to the data section; the optional "__metadata__" entry is a
// string -> string map. The reader validates every offset and byte count and
// returns tensors pointing into the memory mapping. The writer streams: it
// takes the list of tensors up front and a callback that produces each
// tensor's bytes in order, so a model never has to be in memory at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.h"
#include "io/tensor_info.h"

namespace lmpack {

struct SafetensorsFile {
  std::string path;
  uint64_t header_size = 0;  // JSON length N
  uint64_t data_offset = 0;  // 8 + N: start of the data section
  std::map<std::string, std::string> metadata;  // "__metadata__"
  std::vector<TensorInfo> tensors;               // sorted by data offset
  std::shared_ptr<MappedFile> file;              // keeps TensorInfo::data valid

  const TensorInfo* find(const std::string& name) const;
};

// Throws Error(path, ...) for a file shorter than 8 bytes, a header length
// beyond the file or above kSafetensorsMaxHeader, JSON that does not parse or
// has the wrong shape, an unknown dtype (naming the tensor and the dtype), a
// negative or overflowing shape, data_offsets whose byte count disagrees with
// the shape, offsets outside the file, a tensor named twice, or overlapping
// tensors. The header is read as a stream (io/safetensors_header.h): memory
// grows with its tensors, never with its nesting or unknown members.
// Recognized dtypes: F32, F16, BF16 (decodable) and I8, I16, I32, I64, F64
// (reported with their DType, not decoded anywhere).
SafetensorsFile read_safetensors(const std::string& path);

// The same parser over bytes in memory (tests, fuzzing): `where` names them in
// errors, the caller keeps [data, data + size) alive, since the tensors point
// into it, and SafetensorsFile::file stays null.
SafetensorsFile parse_safetensors(const uint8_t* data, size_t size, const std::string& where);

constexpr uint64_t kSafetensorsMaxHeader = uint64_t{100} << 20;  // 100 MB, as the reference crate

// The safetensors spelling of a dtype ("F32", "BF16", ...), or "" when the
// type has no safetensors form (block-quantized types).
std::string_view safetensors_dtype_name(DType type);
// The DType of a safetensors dtype spelling, or nullopt for one lmpack does not know.
std::optional<DType> safetensors_dtype_from_name(std::string_view name);

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
};

// Receives one tensor's bytes, in as many pieces as the producer likes.
class SafetensorsSink {
 public:
  virtual ~SafetensorsSink() = default;
  virtual void write(const void* data, size_t n) = 0;
};

// Called once per entry, in order; must write exactly that entry's byte count
// (elements x dtype size) to the sink.
using SafetensorsProducer = std::function<void(size_t index, SafetensorsSink& sink)>;

// Writes `path` atomically (temporary name, renamed when complete). Tensors
// are laid out in the order given; the JSON header is padded with spaces so
// that the data section starts at a multiple of 8. Throws Error(path, ...) for
// a dtype without a safetensors spelling, a duplicate or reserved name, or a
// producer that writes the wrong number of bytes; nothing is left behind then.
void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                       const SafetensorsProducer& produce,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace lmpack
