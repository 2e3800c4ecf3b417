#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/printable.h"
#include "formats/format_sizes.h"
#include "io/safetensors_header.h"

namespace lmpack {
namespace {

using nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

struct DTypeName {
  DType type;
  std::string_view name;
};
// The dtypes lmpack recognizes; anything else in a header is an error.
constexpr DTypeName kDTypeNames[] = {
    {DType::F32, "F32"}, {DType::F16, "F16"}, {DType::BF16, "BF16"}, {DType::I8, "I8"},
    {DType::I16, "I16"}, {DType::I32, "I32"}, {DType::I64, "I64"},   {DType::F64, "F64"},
};

}  // namespace

std::optional<DType> safetensors_dtype_from_name(std::string_view name) {
  for (const auto& d : kDTypeNames)
    if (d.name == name) return d.type;
  return std::nullopt;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string_view safetensors_dtype_name(DType type) {
  for (const auto& d : kDTypeNames)
    if (d.type == type) return d.name;
  return {};
}

SafetensorsFile parse_safetensors(const uint8_t* bytes, size_t size, const std::string& path) {
  SafetensorsFile st;
  st.path = path;
  if (size < 8) throw Error(path, cat("file is ", size, " bytes; a safetensors file starts with an 8-byte header length"));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kSafetensorsMaxHeader)
    throw Error(path, cat("header length ", n, " exceeds the limit of ", kSafetensorsMaxHeader, " bytes (corrupt file?)"));
  if (n > size - 8) throw Error(path, cat("header length ", n, " runs past the end of the ", size, "-byte file"));
  if (n < 2 || bytes[8] != '{') throw Error(path, "header does not start with a JSON object '{'");
  st.header_size = n;
  st.data_offset = 8 + n;

  const uint8_t* data_section = bytes + st.data_offset;
  const uint64_t data_size = size - st.data_offset;
  parse_safetensors_header(std::string_view(reinterpret_cast<const char*>(bytes) + 8, n), data_section, data_size,
                           path, st);

  // Sort by position and refuse overlaps (empty tensors occupy nothing).
  std::stable_sort(st.tensors.begin(), st.tensors.end(),
                   [](const TensorInfo& a, const TensorInfo& b) { return a.data < b.data; });
  const TensorInfo* prev = nullptr;
  for (const TensorInfo& t : st.tensors) {
    if (t.nbytes == 0) continue;
    if (prev != nullptr && t.data < prev->data + prev->nbytes)
      throw Error(path, cat("tensors '", printable(prev->name), "' and '", printable(t.name), "' overlap (bytes ",
                            prev->data - data_section, "..", prev->data - data_section + prev->nbytes, " and ",
                            t.data - data_section, "..", t.data - data_section + t.nbytes, ")"));
    prev = &t;
  }
  return st;
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  SafetensorsFile st = parse_safetensors(file->data(), file->size(), path);
  st.file = std::move(file);
  return st;
}

namespace {

class CountingSink : public SafetensorsSink {
 public:
  explicit CountingSink(AtomicFile& out) : out_(out) {}
  void start(const std::string* name, uint64_t expected) {
    name_ = name;
    expected_ = expected;
    written_ = 0;
  }
  void write(const void* data, size_t n) override {
    if (written_ + n > expected_)
      throw Error(out_.path(), cat("tensor '", *name_, "': producer wrote more than its ", expected_, " bytes"));
    out_.write(data, n);
    written_ += n;
  }
  uint64_t written() const { return written_; }

 private:
  AtomicFile& out_;
  const std::string* name_ = nullptr;
  uint64_t expected_ = 0;
  uint64_t written_ = 0;
};

}  // namespace

void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                       const SafetensorsProducer& produce, const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header[kMetadataKey] = std::move(m);
  }
  std::vector<uint64_t> sizes;
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const SafetensorsEntry& e : entries) {
    std::string_view dname = safetensors_dtype_name(e.dtype);
    if (dname.empty())
      throw Error(path, cat("tensor '", e.name, "': dtype ", dtype_name(e.dtype), " has no safetensors form"));
    if (e.name == kMetadataKey || e.name.empty()) throw Error(path, cat("tensor name '", e.name, "' is reserved"));
    if (!seen.insert(e.name).second) throw Error(path, cat("tensor '", e.name, "' appears twice"));
    int64_t elements = 1;
    for (int64_t d : e.shape) {
      if (d < 0) throw Error(path, cat("tensor '", e.name, "': negative shape ", shape_string(e.shape)));
      elements *= d;
    }
    const uint64_t nbytes = dtype_bytes(e.dtype, elements);
    header[e.name] = {{"dtype", std::string(dname)}, {"shape", e.shape}, {"data_offsets", {offset, offset + nbytes}}};
    sizes.push_back(nbytes);
    offset += nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data section starts at a multiple of 8

  AtomicFile out(path);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  out.write(len, 8);
  out.write(text);
  CountingSink sink(out);
  for (size_t i = 0; i < entries.size(); ++i) {
    sink.start(&entries[i].name, sizes[i]);
    produce(i, sink);
    if (sink.written() != sizes[i])
      throw Error(path, cat("tensor '", entries[i].name, "': producer wrote ", sink.written(), " bytes, expected ",
                            sizes[i]));
  }
  out.commit();
}

}  // namespace lmpack
