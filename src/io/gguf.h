// GGUF v2/v3 reader: the header, every metadata value type (nested arrays
// included), general.alignment, and tensor infos pointing into the mapping.
// Spec: ggml's docs/gguf.md. Nothing model-specific lives here; see
// model/load_gguf.cpp for the llama.* keys and tensor names.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
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

struct GgufValue;

// The elements of a metadata array, stored by kind so that an array costs
// about what it takes in the file: numbers and bools packed as the file
// stores them, strings back to back with their end offsets, and only nested
// arrays as one GgufValue each.
class GgufArray {
 public:
  GgufArray() = default;
  explicit GgufArray(GgufType type);

  GgufType type() const { return type_; }  // element type
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Element k as a value of type type() (a copy; a nested array is copied too).
  GgufValue operator[](size_t k) const;
  std::string_view string_at(size_t k) const;  // kString arrays only
  const GgufValue& array_at(size_t k) const;   // kArray arrays only

  // Appends one element; throws Error("GGUF array", ...) when its type is not type().
  void push_back(const GgufValue& v);
  void push_back(GgufValue&& v);
  void push_string(std::string_view s);  // kString arrays only
  // Appends n scalars stored as the file stores them (n * element size bytes).
  void append_packed(const uint8_t* bytes, size_t n);

 private:
  GgufType type_ = GgufType::kUint32;
  size_t size_ = 0;
  std::string bytes_;              // scalars: packed little-endian; strings: texts back to back
  std::vector<uint64_t> ends_;     // kString: end of each text in bytes_
  std::vector<GgufValue> arrays_;  // kArray: the nested arrays
};

struct GgufValue {
  GgufType type = GgufType::kUint32;
  uint64_t u = 0;      // unsigned integer types and bool
  int64_t i = 0;       // signed integer types (also set for unsigned ones that fit)
  double f = 0.0;      // float types
  std::string str;     // kString
  GgufArray array;     // kArray: elements (array.type() is their type; they may be arrays)

  bool is_integer() const;
  bool is_float() const { return type == GgufType::kFloat32 || type == GgufType::kFloat64; }
};

// Bytes one element of a scalar type occupies in the file (0 for strings and arrays).
size_t gguf_scalar_bytes(GgufType type);

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

// True when the file starts with the magic "GGUF", or is named *.gguf (any
// case): a ".gguf" with a bad magic or too short for one is meant as a GGUF,
// and read_gguf's error says what is wrong with it, rather than another
// format's reader talking of its own header.
bool is_gguf_file(const std::string& path);

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
