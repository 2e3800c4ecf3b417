// A minimal GGUF writer for tests only: builds a file image in memory, byte
// by byte from the GGUF spec (magic, version, counts, key/values, tensor
// infos, padding to the alignment, tensor data), so that tests can make
// files with any metadata type, nested arrays, a chosen version or alignment,
// quantized tensors, and deliberately broken headers.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace lmpack::testing {

using Bytes = std::string;  // raw bytes

template <typename T>
Bytes gguf_pod(T v) {
  Bytes b(sizeof(T), '\0');
  std::memcpy(b.data(), &v, sizeof(T));
  return b;
}

inline Bytes gguf_str(const std::string& s) { return gguf_pod<uint64_t>(s.size()) + s; }

// GGUF value type ids (spec): uint8 0, int8 1, uint16 2, int16 3, uint32 4,
// int32 5, float32 6, bool 7, string 8, array 9, uint64 10, int64 11, float64 12.
enum : uint32_t {
  kGU8 = 0, kGI8 = 1, kGU16 = 2, kGI16 = 3, kGU32 = 4, kGI32 = 5, kGF32 = 6,
  kGBool = 7, kGStr = 8, kGArr = 9, kGU64 = 10, kGI64 = 11, kGF64 = 12,
};

// Array payload (after the array's own type id): element type, count, elements.
inline Bytes gguf_array(uint32_t elem_type, uint64_t count, const Bytes& elements) {
  return gguf_pod<uint32_t>(elem_type) + gguf_pod<uint64_t>(count) + elements;
}

class TestGgufWriter {
 public:
  explicit TestGgufWriter(uint32_t version = 3, uint64_t alignment = 32)
      : version_(version), alignment_(alignment) {}

  // A key/value whose value bytes (after the type id) are given raw.
  void kv(const std::string& key, uint32_t type, const Bytes& payload) {
    kvs_ += gguf_str(key) + gguf_pod<uint32_t>(type) + payload;
    ++n_kv_;
  }
  void kv_u32(const std::string& key, uint32_t v) { kv(key, kGU32, gguf_pod(v)); }
  void kv_f32(const std::string& key, float v) { kv(key, kGF32, gguf_pod(v)); }
  void kv_str(const std::string& key, const std::string& v) { kv(key, kGStr, gguf_str(v)); }
  void kv_bool(const std::string& key, bool v) { kv(key, kGBool, gguf_pod<uint8_t>(v ? 1 : 0)); }
  void kv_strings(const std::string& key, const std::vector<std::string>& v) {
    Bytes e;
    for (const auto& s : v) e += gguf_str(s);
    kv(key, kGArr, gguf_array(kGStr, v.size(), e));
  }
  void kv_f32s(const std::string& key, const std::vector<float>& v) {
    Bytes e;
    for (float f : v) e += gguf_pod(f);
    kv(key, kGArr, gguf_array(kGF32, v.size(), e));
  }
  void kv_i32s(const std::string& key, const std::vector<int32_t>& v) {
    Bytes e;
    for (int32_t x : v) e += gguf_pod(x);
    kv(key, kGArr, gguf_array(kGI32, v.size(), e));
  }

  // A tensor: ne in GGUF order (innermost first), GGML type id, its bytes.
  // The data offset is the next aligned one unless `offset` is given.
  void tensor(const std::string& name, const std::vector<uint64_t>& ne, uint32_t type, const Bytes& data,
              int64_t offset = -1) {
    uint64_t off = offset >= 0 ? static_cast<uint64_t>(offset) : pad_to(data_.size());
    infos_ += gguf_str(name) + gguf_pod<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) infos_ += gguf_pod(d);
    infos_ += gguf_pod(type) + gguf_pod(off);
    if (data_.size() < off + data.size()) data_.resize(off + data.size(), '\0');
    std::memcpy(data_.data() + off, data.data(), data.size());
    ++n_tensors_;
  }
  // Raw bytes appended to the tensor-info section (for broken infos).
  void raw_info(const Bytes& b, uint64_t counts_as = 1) {
    infos_ += b;
    n_tensors_ += counts_as;
  }
  void override_counts(uint64_t n_tensors, uint64_t n_kv) {
    forced_tensors_ = n_tensors;
    forced_kv_ = n_kv;
  }

  Bytes bytes() const {
    Bytes out = "GGUF" + gguf_pod<uint32_t>(version_);
    out += gguf_pod<uint64_t>(forced_tensors_ != kUnset ? forced_tensors_ : n_tensors_);
    out += gguf_pod<uint64_t>(forced_kv_ != kUnset ? forced_kv_ : n_kv_);
    out += kvs_ + infos_;
    out.resize(pad_to(out.size()), '\0');
    return out + data_;
  }
  std::vector<uint8_t> vec() const {
    Bytes b = bytes();
    return std::vector<uint8_t>(b.begin(), b.end());
  }

 private:
  static constexpr uint64_t kUnset = ~uint64_t{0};
  uint64_t pad_to(uint64_t n) const { return (n + alignment_ - 1) / alignment_ * alignment_; }

  uint32_t version_;
  uint64_t alignment_;
  Bytes kvs_, infos_, data_;
  uint64_t n_kv_ = 0, n_tensors_ = 0;
  uint64_t forced_tensors_ = kUnset, forced_kv_ = kUnset;
};

}  // namespace lmpack::testing
