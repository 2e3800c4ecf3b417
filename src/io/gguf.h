// GGUF v2/v3 reader: the header, every metadata value type (nested arrays
// included), general.alignment, and tensor infos pointing into the mapping.
// Spec: ggml's docs/gguf.md. Nothing model-specific lives here; see
// model/load_gguf.cpp for the llama.* keys and tensor names.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/mapped_file.h"
#include "io/tensor_info.h"

namespace lmpack {

enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

struct GgufValue {
  GgufType type = GgufType::kUint32;
  uint64_t u = 0;      // unsigned integer types and bool
  int64_t i = 0;       // signed integer types (also set for unsigned ones that fit)
  double f = 0.0;      // float types
  std::string str;     // kString
  GgufType array_type = GgufType::kUint32;  // kArray: element type
  std::vector<GgufValue> array;             // kArray: elements (may be arrays)

  bool is_integer() const;
  bool is_float() const { return type == GgufType::kFloat32 || type == GgufType::kFloat64; }
};

struct GgufFile {
  std::string path;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // start of the tensor data section
  std::vector<std::pair<std::string, GgufValue>> metadata;  // file order
  std::vector<TensorInfo> tensors;                          // file order; shapes row-major
  std::shared_ptr<MappedFile> file;

  const GgufValue* find(const std::string& key) const;
  // Typed getters: throw Error(path, "metadata key <key> is missing") or
  // "... has type X, expected Y".
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;  // accepts integer values too
  std::string get_string(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<float> get_float_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;
};

// Throws Error(path, ...) for a bad magic, an unsupported version, a
// truncated or inconsistent header, an unknown tensor type (naming the
// tensor), a tensor whose bytes lie outside the file, or overlapping tensors.
GgufFile read_gguf(const std::string& path);

// The same parser over bytes already in memory (tests, fuzzing). `where`
// names them in errors; the caller keeps [data, data + size) alive, since
// the tensors point into it, and GgufFile::file stays null.
GgufFile parse_gguf(const uint8_t* data, size_t size, const std::string& where);

std::string_view gguf_type_name(GgufType type);

}  // namespace lmpack
