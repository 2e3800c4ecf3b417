#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"

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

std::optional<DType> dtype_from_safetensors(std::string_view name) {
  for (const auto& d : kDTypeNames)
    if (d.name == name) return d.type;
  return std::nullopt;
}

const char* json_type(const json& j) { return j.type_name(); }

// A non-negative JSON integer as uint64, or an Error naming `what`.
uint64_t json_uint(const json& j, const std::string& where, const std::string& what) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v < 0) throw Error(where, cat(what, " is negative (", v, ")"));
    return static_cast<uint64_t>(v);
  }
  throw Error(where, cat(what, " must be a non-negative integer, got ", json_type(j)));
}

TensorInfo parse_entry(const std::string& path, const std::string& name, const json& entry,
                       const uint8_t* data_section, uint64_t data_size) {
  const std::string what = cat("tensor '", name, "'");
  if (!entry.is_object()) throw Error(path, cat(what, ": entry must be an object, got ", json_type(entry)));
  auto field = [&](const char* key) -> const json& {
    auto it = entry.find(key);
    if (it == entry.end()) throw Error(path, cat(what, ": missing '", key, "'"));
    return *it;
  };
  const json& jdtype = field("dtype");
  const json& jshape = field("shape");
  const json& joffsets = field("data_offsets");

  if (!jdtype.is_string()) throw Error(path, cat(what, ": dtype must be a string, got ", json_type(jdtype)));
  const std::string dtype_str = jdtype.get<std::string>();
  std::optional<DType> dtype = dtype_from_safetensors(dtype_str);
  if (!dtype)
    throw Error(path, cat(what, ": unknown dtype '", dtype_str, "' (known: F32 F16 BF16 I8 I16 I32 I64 F64)"));

  TensorInfo t;
  t.name = name;
  t.dtype = *dtype;
  if (!jshape.is_array()) throw Error(path, cat(what, ": shape must be an array, got ", json_type(jshape)));
  int64_t elements = 1;
  for (const json& d : jshape) {
    uint64_t v = json_uint(d, path, cat(what, ": shape dimension"));
    if (v > static_cast<uint64_t>(INT64_MAX)) throw Error(path, cat(what, ": shape dimension ", v, " is too large"));
    int64_t dim = static_cast<int64_t>(v);
    if (__builtin_mul_overflow(elements, dim, &elements))
      throw Error(path, cat(what, ": shape ", jshape.dump(), " overflows"));
    t.shape.push_back(dim);
  }
  const int64_t elem_bytes = dtype_traits(*dtype).block_bytes;
  int64_t expected = 0;
  if (__builtin_mul_overflow(elements, elem_bytes, &expected))
    throw Error(path, cat(what, ": shape ", jshape.dump(), " overflows"));

  if (!joffsets.is_array() || joffsets.size() != 2)
    throw Error(path, cat(what, ": data_offsets must be an array of two integers, got ", joffsets.dump()));
  const uint64_t begin = json_uint(joffsets[0], path, cat(what, ": data_offsets[0]"));
  const uint64_t end = json_uint(joffsets[1], path, cat(what, ": data_offsets[1]"));
  if (end < begin) throw Error(path, cat(what, ": data_offsets [", begin, ", ", end, "] end before begin"));
  if (end - begin != static_cast<uint64_t>(expected))
    throw Error(path, cat(what, ": data_offsets [", begin, ", ", end, "] hold ", end - begin, " bytes but ", dtype_str,
                          " ", shape_string(t.shape), " needs ", expected));
  if (end > data_size)
    throw Error(path, cat(what, ": data_offsets [", begin, ", ", end, "] run past the data section (", data_size,
                          " bytes; file truncated?)"));
  t.data = data_section + begin;
  t.nbytes = static_cast<size_t>(end - begin);
  return t;
}

}  // namespace

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

SafetensorsFile read_safetensors(const std::string& path) {
  SafetensorsFile st;
  st.path = path;
  st.file = MappedFile::open(path);
  const uint8_t* bytes = st.file->data();
  const uint64_t size = st.file->size();
  if (size < 8) throw Error(path, cat("file is ", size, " bytes; a safetensors file starts with an 8-byte header length"));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kSafetensorsMaxHeader)
    throw Error(path, cat("header length ", n, " exceeds the limit of ", kSafetensorsMaxHeader, " bytes (corrupt file?)"));
  if (n > size - 8) throw Error(path, cat("header length ", n, " runs past the end of the ", size, "-byte file"));
  if (n < 2 || bytes[8] != '{') throw Error(path, "header does not start with a JSON object '{'");
  st.header_size = n;
  st.data_offset = 8 + n;

  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + n, nullptr, /*allow_exceptions=*/false);
  } catch (const json::exception& e) {
    throw Error(path, cat("header is not valid JSON: ", e.what()));
  }
  if (header.is_discarded()) throw Error(path, "header is not valid JSON");
  if (!header.is_object()) throw Error(path, cat("header must be a JSON object, got ", json_type(header)));

  const uint8_t* data_section = bytes + st.data_offset;
  const uint64_t data_size = size - st.data_offset;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == kMetadataKey) {
      if (!it->is_object())
        throw Error(path, cat("__metadata__ must be an object of strings, got ", json_type(*it)));
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          throw Error(path, cat("__metadata__ value for '", m.key(), "' must be a string, got ", json_type(*m)));
        st.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    st.tensors.push_back(parse_entry(path, it.key(), *it, data_section, data_size));
  }

  // Sort by position and refuse overlaps (empty tensors occupy nothing).
  std::stable_sort(st.tensors.begin(), st.tensors.end(),
                   [](const TensorInfo& a, const TensorInfo& b) { return a.data < b.data; });
  const TensorInfo* prev = nullptr;
  for (const TensorInfo& t : st.tensors) {
    if (t.nbytes == 0) continue;
    if (prev != nullptr && t.data < prev->data + prev->nbytes)
      throw Error(path, cat("tensors '", prev->name, "' and '", t.name, "' overlap (bytes ", prev->data - data_section,
                            "..", prev->data - data_section + prev->nbytes, " and ", t.data - data_section, "..",
                            t.data - data_section + t.nbytes, ")"));
    prev = &t;
  }
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
