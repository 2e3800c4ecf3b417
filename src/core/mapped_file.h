// Read-only memory-mapped files and a bounds-checked cursor over their bytes.
//
// Readers never touch weight bytes while parsing headers: they record offsets
// into the mapping, and pages come in only when a tensor is used. ByteReader
// turns every out-of-bounds read into lmpack::Error("<path>: ...") so that a
// truncated or corrupt file can never crash a parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace lmpack {

class MappedFile {
 public:
  // Throws Error("<path>: cannot open: <reason>") and the like.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Sequential little-endian reader over [data, data+size). `where` names the
// file in error messages.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size, std::string where)
      : data_(data), size_(size), where_(std::move(where)) {}

  size_t offset() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& where() const { return where_; }
  void seek(size_t offset);

  template <typename T>
  T read(std::string_view what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  // n bytes as a string (n checked against the remaining bytes first).
  std::string read_string(uint64_t n, std::string_view what);
  const uint8_t* read_bytes(uint64_t n, std::string_view what);
  // Throws "<where>: truncated at offset X reading <what> (need N bytes, M left)".
  void need(uint64_t n, std::string_view what) const;
  [[noreturn]] void fail(std::string_view problem) const;

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string where_;
};

}  // namespace lmpack
