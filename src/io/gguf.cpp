// GGUF v2/v3 reader (see io/gguf.h). The parser trusts nothing in the file:
// every count is checked against the bytes that remain before anything is
// allocated for it, sizes are computed with overflow checks, and every error
// is one line "<path>: <problem>".
#include "io/gguf.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <unordered_set>

#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/output_path.h"
#include "core/printable.h"
#include "formats/format_sizes.h"

namespace lmpack {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747u;  // "GGUF" little-endian
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxArrayDepth = 8;             // arrays of arrays of ... (llama.cpp uses 1)
constexpr uint32_t kMaxDims = 4;
// Array elements in all metadata together. Real files hold about a million at
// most (256K-token vocabularies with scores, types and merges); the cap keeps
// a hostile multi-gigabyte header from costing gigabytes of RAM. Elements are
// stored packed (GgufArray), so even at the cap a header costs about its size.
constexpr uint64_t kMaxArrayElements = uint64_t{1} << 22;
// Nested arrays cost a GgufValue (~150 bytes) each for 12 bytes of file:
// llama.cpp writes none, so a small cap keeps them cheap.
constexpr uint64_t kMaxNestedArrays = uint64_t{1} << 16;
// Real files have tens of keys and at most a few thousand tensors; a key or a
// tensor info costs a few hundred bytes of RAM for as little as 13 or 32
// bytes of file, so the counts are capped as well as checked against the size.
constexpr uint64_t kMaxMetadataKeys = uint64_t{1} << 16;
constexpr uint64_t kMaxTensors = uint64_t{1} << 20;

// Smallest number of bytes one element of this type can occupy in the file.
uint64_t min_value_bytes(GgufType t) {
  switch (t) {
    case GgufType::kString:  // uint64 length
      return 8;
    case GgufType::kArray:  // uint32 type + uint64 count
      return 12;
    default:
      return gguf_scalar_bytes(t);
  }
}

bool valid_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kFloat64); }

bool is_unsigned(GgufType t) {
  return t == GgufType::kUint8 || t == GgufType::kUint16 || t == GgufType::kUint32 || t == GgufType::kUint64;
}
bool is_signed(GgufType t) {
  return t == GgufType::kInt8 || t == GgufType::kInt16 || t == GgufType::kInt32 || t == GgufType::kInt64;
}

// One scalar element from its little-endian bytes (gguf_scalar_bytes(type) of them).
GgufValue scalar_from_bytes(GgufType type, const uint8_t* p) {
  GgufValue v;
  v.type = type;
  auto load = [p](auto x) {
    std::memcpy(&x, p, sizeof x);
    return x;
  };
  switch (type) {
    case GgufType::kUint8: v.u = load(uint8_t{}); break;
    case GgufType::kUint16: v.u = load(uint16_t{}); break;
    case GgufType::kUint32: v.u = load(uint32_t{}); break;
    case GgufType::kUint64: v.u = load(uint64_t{}); break;
    case GgufType::kInt8: v.i = load(int8_t{}); break;
    case GgufType::kInt16: v.i = load(int16_t{}); break;
    case GgufType::kInt32: v.i = load(int32_t{}); break;
    case GgufType::kInt64: v.i = load(int64_t{}); break;
    case GgufType::kFloat32: v.f = load(float{}); break;
    case GgufType::kFloat64: v.f = load(double{}); break;
    case GgufType::kBool:
      v.u = load(uint8_t{}) != 0 ? 1 : 0;
      v.i = static_cast<int64_t>(v.u);
      break;
    case GgufType::kString:
    case GgufType::kArray:
      LMPACK_CHECK(false, "scalar_from_bytes on a string or array type");
  }
  // Mirror integers across u/i where they fit.
  if (is_unsigned(type)) {
    if (v.u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) v.i = static_cast<int64_t>(v.u);
  } else if (is_signed(type)) {
    if (v.i >= 0) v.u = static_cast<uint64_t>(v.i);
  }
  return v;
}

// The little-endian bytes of a scalar value (inverse of scalar_from_bytes).
void scalar_to_bytes(const GgufValue& v, uint8_t* p) {
  auto store = [p](auto x) { std::memcpy(p, &x, sizeof x); };
  switch (v.type) {
    case GgufType::kUint8: store(static_cast<uint8_t>(v.u)); break;
    case GgufType::kUint16: store(static_cast<uint16_t>(v.u)); break;
    case GgufType::kUint32: store(static_cast<uint32_t>(v.u)); break;
    case GgufType::kUint64: store(v.u); break;
    case GgufType::kInt8: store(static_cast<int8_t>(v.i)); break;
    case GgufType::kInt16: store(static_cast<int16_t>(v.i)); break;
    case GgufType::kInt32: store(static_cast<int32_t>(v.i)); break;
    case GgufType::kInt64: store(v.i); break;
    case GgufType::kFloat32: store(static_cast<float>(v.f)); break;
    case GgufType::kFloat64: store(v.f); break;
    case GgufType::kBool: store(static_cast<uint8_t>(v.u != 0 ? 1 : 0)); break;
    case GgufType::kString:
    case GgufType::kArray:
      LMPACK_CHECK(false, "scalar_to_bytes on a string or array type");
  }
}

class Parser {
 public:
  Parser(const uint8_t* data, size_t size, std::string path)
      : r_(data, size, path), data_(data), path_(std::move(path)) {}

  GgufFile parse();

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw Error(path_, problem); }
  // A string's bytes, still in the file (length checked against what is left).
  std::string_view read_string_view(std::string_view what) {
    uint64_t n = r_.read<uint64_t>(what);
    if (n > r_.remaining())
      fail(cat("string length ", n, " for ", what, " at offset ", r_.offset() - 8, " exceeds the ",
               r_.remaining(), " bytes left"));
    return {reinterpret_cast<const char*>(r_.read_bytes(n, what)), static_cast<size_t>(n)};
  }
  std::string read_string(std::string_view what) { return std::string(read_string_view(what)); }
  GgufType read_type(std::string_view what) {
    uint32_t t = r_.read<uint32_t>(what);
    if (!valid_type(t)) fail(cat("unknown metadata value type ", t, " for ", what));
    return static_cast<GgufType>(t);
  }
  void read_value(GgufValue& v, GgufType type, const std::string& shown_key);
  void read_array(GgufValue& v, const std::string& shown_key, int depth);
  void read_tensor_info(TensorInfo& t, uint64_t& offset, const std::unordered_set<std::string>& seen);

  ByteReader r_;
  const uint8_t* data_;
  std::string path_;
  uint64_t array_elements_ = 0;
  uint64_t nested_arrays_ = 0;
};

// `shown_key` is the key as printable() shows it in messages.
void Parser::read_value(GgufValue& v, GgufType type, const std::string& shown_key) {
  if (type == GgufType::kString) {
    v.type = type;
    v.str = read_string(shown_key);
  } else if (type == GgufType::kArray) {
    v.type = type;
    read_array(v, shown_key, 0);
  } else {
    const uint8_t* p = r_.read_bytes(gguf_scalar_bytes(type), shown_key);
    if (type == GgufType::kBool && *p > 1)
      fail(cat("metadata key ", shown_key, ": bool value ", int{*p}, " is neither 0 nor 1"));
    v = scalar_from_bytes(type, p);
  }
}

void Parser::read_array(GgufValue& v, const std::string& shown_key, int depth) {
  if (depth >= kMaxArrayDepth)
    fail(cat("metadata key ", shown_key, ": arrays nested deeper than ", kMaxArrayDepth));
  const GgufType type = read_type(shown_key);
  const uint64_t n = r_.read<uint64_t>(shown_key);
  const uint64_t min_bytes = min_value_bytes(type);
  if (n > r_.remaining() / min_bytes)
    fail(cat("metadata key ", shown_key, ": array of ", n, " ", gguf_type_name(type), " needs at least ",
             min_bytes, " bytes each, only ", r_.remaining(), " left"));
  array_elements_ += n;
  if (array_elements_ > kMaxArrayElements)
    fail(cat("metadata key ", shown_key, ": more than ", kMaxArrayElements, " array elements in the metadata (",
             n, " in this array)"));
  v.array = GgufArray(type);
  if (type == GgufType::kString) {
    for (uint64_t k = 0; k < n; ++k) v.array.push_string(read_string_view(shown_key));
  } else if (type == GgufType::kArray) {
    nested_arrays_ += n;
    if (nested_arrays_ > kMaxNestedArrays)
      fail(cat("metadata key ", shown_key, ": more than ", kMaxNestedArrays, " nested arrays in the metadata"));
    for (uint64_t k = 0; k < n; ++k) {
      GgufValue e;
      e.type = GgufType::kArray;
      read_array(e, shown_key, depth + 1);
      v.array.push_back(std::move(e));
    }
  } else {
    const uint8_t* p = r_.read_bytes(n * min_bytes, shown_key);
    if (type == GgufType::kBool)
      for (uint64_t k = 0; k < n; ++k)
        if (p[k] > 1)
          fail(cat("metadata key ", shown_key, ": bool element ", k, " is ", int{p[k]}, ", neither 0 nor 1"));
    v.array.append_packed(p, static_cast<size_t>(n));
  }
}

void Parser::read_tensor_info(TensorInfo& t, uint64_t& offset, const std::unordered_set<std::string>& seen) {
  size_t at = r_.offset();
  t.name = read_string("tensor name");
  const std::string shown = printable(t.name);
  if (t.name.empty()) fail(cat("tensor info at offset ", at, " has an empty name"));
  if (seen.count(t.name)) fail(cat("duplicate tensor name '", shown, "'"));
  uint32_t n_dims = r_.read<uint32_t>("tensor n_dims");
  if (n_dims < 1 || n_dims > kMaxDims)
    fail(cat("tensor '", shown, "' has ", n_dims, " dimensions (must be 1..", kMaxDims, ")"));
  uint64_t ne[kMaxDims];
  for (uint32_t d = 0; d < n_dims; ++d) {
    ne[d] = r_.read<uint64_t>("tensor dimension");
    if (ne[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(cat("tensor '", shown, "' dimension ", d, " is ", ne[d], ", too large"));
  }
  uint32_t type_id = r_.read<uint32_t>("tensor type");
  const std::optional<DType> type = dtype_from_ggml_id(type_id);
  if (!type) fail(cat("tensor '", shown, "' has unknown type id ", type_id));
  offset = r_.read<uint64_t>("tensor offset");

  t.dtype = *type;
  const int64_t block_elements = dtype_block_elements(t.dtype);
  t.shape.assign(n_dims, 0);
  int64_t n_elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    t.shape[n_dims - 1 - d] = static_cast<int64_t>(ne[d]);
    if (__builtin_mul_overflow(n_elements, static_cast<int64_t>(ne[d]), &n_elements))
      fail(cat("tensor '", shown, "' element count overflows (shape ", shape_string(t.shape), ")"));
  }
  if (static_cast<int64_t>(ne[0]) % block_elements != 0)
    fail(cat("tensor '", shown, "' of type ", dtype_name(t.dtype), " has rows of ", ne[0],
             " elements, not a multiple of the block size ", block_elements));
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(n_elements / block_elements),
                             static_cast<uint64_t>(dtype_block_bytes(t.dtype)), &nbytes))
    fail(cat("tensor '", shown, "' byte size overflows (shape ", shape_string(t.shape), ")"));
  t.nbytes = nbytes;
}

GgufFile Parser::parse() {
  GgufFile g;
  g.path = path_;
  uint32_t magic = r_.read<uint32_t>("magic");
  if (magic != kGgufMagic) fail("not a GGUF file (bad magic)");
  g.version = r_.read<uint32_t>("version");
  if (g.version == 1) fail("GGUF version 1 is not supported (only versions 2 and 3)");
  if (g.version != 2 && g.version != 3)
    fail(cat("unsupported GGUF version ", g.version, " (supported: 2, 3)"));
  uint64_t n_tensors = r_.read<uint64_t>("tensor count");
  uint64_t n_kv = r_.read<uint64_t>("metadata count");
  // A key/value pair needs at least 8 (key length) + 4 (type) + 1 bytes.
  if (n_kv > r_.remaining() / 13)
    fail(cat("metadata count ", n_kv, " cannot fit in the ", r_.remaining(), " bytes left"));
  if (n_kv > kMaxMetadataKeys) fail(cat("metadata count ", n_kv, " is more than the limit of ", kMaxMetadataKeys));

  std::unordered_set<std::string> keys;
  g.metadata.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = read_string("metadata key");
    if (!keys.insert(key).second) fail(cat("duplicate metadata key ", printable(key)));
    const std::string shown = printable(key);
    GgufType type = read_type(shown);
    GgufValue v;
    read_value(v, type, shown);
    g.metadata.emplace_back(std::move(key), std::move(v));
  }

  g.alignment = kDefaultAlignment;
  if (const GgufValue* a = g.find("general.alignment")) {
    if (!a->is_integer()) fail(cat("general.alignment has type ", gguf_type_name(a->type), ", expected uint32"));
    if (a->i <= 0 || a->i > (int64_t{1} << 30) || (a->i & (a->i - 1)) != 0)
      fail(cat("general.alignment is ", a->i, ", must be a power of two (at most 2^30)"));
    g.alignment = static_cast<uint64_t>(a->i);
  }

  // A tensor info needs at least 8 (name) + 4 + 8 (one dim) + 4 + 8 bytes.
  if (n_tensors > r_.remaining() / 32)
    fail(cat("tensor count ", n_tensors, " cannot fit in the ", r_.remaining(), " bytes left"));
  if (n_tensors > kMaxTensors) fail(cat("tensor count ", n_tensors, " is more than the limit of ", kMaxTensors));
  std::vector<uint64_t> offsets(n_tensors);
  std::unordered_set<std::string> names;
  g.tensors.resize(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    read_tensor_info(g.tensors[k], offsets[k], names);
    names.insert(g.tensors[k].name);
  }

  const uint64_t size = r_.size();
  const uint64_t header_end = r_.offset();
  g.data_offset = (header_end + g.alignment - 1) / g.alignment * g.alignment;
  if (n_tensors > 0 && g.data_offset > size)
    fail(cat("data section at offset ", g.data_offset, " starts past the end of the file (", size, " bytes)"));

  // Bounds and alignment of every tensor, then overlaps between them.
  std::vector<std::pair<uint64_t, size_t>> order;  // (absolute start, index)
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo& t = g.tensors[k];
    const std::string shown = printable(t.name);
    if (offsets[k] % g.alignment != 0)
      fail(cat("tensor '", shown, "' offset ", offsets[k], " is not a multiple of the alignment ", g.alignment));
    uint64_t room = size - g.data_offset;
    if (offsets[k] > room || t.nbytes > room - offsets[k])
      fail(cat("tensor '", shown, "' (", t.nbytes, " bytes at data offset ", offsets[k],
               ") extends past the end of the file (", room, " data bytes)"));
    order.emplace_back(g.data_offset + offsets[k], k);
  }
  std::sort(order.begin(), order.end());
  uint64_t end = 0;
  size_t end_owner = 0;
  for (size_t n = 0; n < order.size(); ++n) {
    const TensorInfo& t = g.tensors[order[n].second];
    if (t.nbytes == 0) continue;
    if (order[n].first < end)
      fail(cat("tensors '", printable(g.tensors[end_owner].name), "' and '", printable(t.name), "' overlap"));
    if (order[n].first + t.nbytes > end) {
      end = order[n].first + t.nbytes;
      end_owner = order[n].second;
    }
  }
  for (uint64_t k = 0; k < n_tensors; ++k) g.tensors[k].data = data_ + g.data_offset + offsets[k];
  return g;
}

[[noreturn]] void type_error(const std::string& path, const std::string& key, GgufType got,
                             std::string_view expected) {
  throw Error(path, cat("metadata key ", printable(key), " has type ", gguf_type_name(got), ", expected ", expected));
}

int64_t value_as_int(const std::string& path, const std::string& key, const GgufValue& v) {
  if (!v.is_integer()) type_error(path, key, v.type, "an integer");
  if (v.type == GgufType::kUint64 && v.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw Error(path, cat("metadata key ", printable(key), " value ", v.u, " does not fit in int64"));
  return v.i;
}

double value_as_float(const std::string& path, const std::string& key, const GgufValue& v) {
  if (v.is_float()) return v.f;
  if (v.is_integer())
    return v.type == GgufType::kUint64 ? static_cast<double>(v.u) : static_cast<double>(v.i);
  type_error(path, key, v.type, "a number");
}

const GgufValue& array_of(const GgufFile& g, const std::string& key) {
  const GgufValue* v = g.find(key);
  if (v == nullptr) throw Error(g.path, cat("metadata key ", printable(key), " is missing"));
  if (v->type != GgufType::kArray) type_error(g.path, key, v->type, "array");
  return *v;
}

}  // namespace

GgufFile parse_gguf(const uint8_t* data, size_t size, const std::string& where) {
  return Parser(data, size, where).parse();
}

bool is_gguf_file(const std::string& path) {
  if (is_gguf_path(path)) return true;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

GgufFile read_gguf(const std::string& path) {
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  GgufFile g = parse_gguf(file->data(), file->size(), path);
  g.file = std::move(file);
  return g;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  for (const auto& [k, v] : metadata)
    if (k == key) return &v;
  return nullptr;
}

static const GgufValue& require(const GgufFile& g, const std::string& key) {
  const GgufValue* v = g.find(key);
  if (v == nullptr) throw Error(g.path, cat("metadata key ", printable(key), " is missing"));
  return *v;
}

int64_t GgufFile::get_int(const std::string& key) const { return value_as_int(path, key, require(*this, key)); }

double GgufFile::get_float(const std::string& key) const {
  return value_as_float(path, key, require(*this, key));
}

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue& v = require(*this, key);
  if (v.type != GgufType::kString) type_error(path, key, v.type, "string");
  return v.str;
}

bool GgufFile::get_bool(const std::string& key) const {
  const GgufValue& v = require(*this, key);
  if (v.type != GgufType::kBool) type_error(path, key, v.type, "bool");
  return v.u != 0;
}

std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
  const GgufValue& v = array_of(*this, key);
  if (v.array.type() != GgufType::kString) type_error(path, key, v.array.type(), "array of string");
  std::vector<std::string> out;
  out.reserve(v.array.size());
  for (size_t k = 0; k < v.array.size(); ++k) out.emplace_back(v.array.string_at(k));
  return out;
}

std::vector<float> GgufFile::get_float_array(const std::string& key) const {
  const GgufValue& v = array_of(*this, key);
  const GgufType t = v.array.type();
  if (gguf_scalar_bytes(t) == 0 || t == GgufType::kBool) type_error(path, key, t, "array of numbers");
  std::vector<float> out;
  out.reserve(v.array.size());
  for (size_t k = 0; k < v.array.size(); ++k)
    out.push_back(static_cast<float>(value_as_float(path, key, v.array[k])));
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue& v = array_of(*this, key);
  const GgufType t = v.array.type();
  if (!is_unsigned(t) && !is_signed(t)) type_error(path, key, t, "array of integers");
  std::vector<int64_t> out;
  out.reserve(v.array.size());
  for (size_t k = 0; k < v.array.size(); ++k) out.push_back(value_as_int(path, key, v.array[k]));
  return out;
}

size_t gguf_scalar_bytes(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

GgufArray::GgufArray(GgufType type) : type_(type) {}

GgufValue GgufArray::operator[](size_t k) const {
  LMPACK_CHECK(k < size_, cat("GGUF array element ", k, " of ", size_));
  if (type_ == GgufType::kArray) return arrays_[k];
  if (type_ == GgufType::kString) {
    GgufValue v;
    v.type = GgufType::kString;
    v.str = std::string(string_at(k));
    return v;
  }
  return scalar_from_bytes(type_, reinterpret_cast<const uint8_t*>(bytes_.data()) + k * gguf_scalar_bytes(type_));
}

std::string_view GgufArray::string_at(size_t k) const {
  LMPACK_CHECK(type_ == GgufType::kString && k < size_, cat("GGUF string array element ", k, " of ", size_));
  const uint64_t begin = k == 0 ? 0 : ends_[k - 1];
  return std::string_view(bytes_).substr(begin, ends_[k] - begin);
}

const GgufValue& GgufArray::array_at(size_t k) const {
  LMPACK_CHECK(type_ == GgufType::kArray && k < size_, cat("GGUF nested array element ", k, " of ", size_));
  return arrays_[k];
}

void GgufArray::push_back(const GgufValue& v) {
  if (v.type != type_)
    throw Error("GGUF array", cat("an element of type ", gguf_type_name(v.type), " cannot go into an array of ",
                                  gguf_type_name(type_)));
  if (type_ == GgufType::kString) {
    push_string(v.str);
    return;
  }
  if (type_ == GgufType::kArray) {
    arrays_.push_back(v);
  } else {
    uint8_t b[8];
    scalar_to_bytes(v, b);
    bytes_.append(reinterpret_cast<const char*>(b), gguf_scalar_bytes(type_));
  }
  ++size_;
}

void GgufArray::push_back(GgufValue&& v) {
  if (v.type == GgufType::kArray && type_ == GgufType::kArray) {
    arrays_.push_back(std::move(v));
    ++size_;
    return;
  }
  push_back(static_cast<const GgufValue&>(v));
}

void GgufArray::push_string(std::string_view s) {
  LMPACK_CHECK(type_ == GgufType::kString, "push_string on a non-string GGUF array");
  bytes_.append(s);
  ends_.push_back(bytes_.size());
  ++size_;
}

void GgufArray::append_packed(const uint8_t* bytes, size_t n) {
  const size_t width = gguf_scalar_bytes(type_);
  LMPACK_CHECK(width > 0, "append_packed on a string or array GGUF array");
  bytes_.append(reinterpret_cast<const char*>(bytes), n * width);
  size_ += n;
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kUint64:
    case GgufType::kInt64:
      return true;
    default:
      return false;
  }
}

std::string_view gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::kUint8: return "uint8";
    case GgufType::kInt8: return "int8";
    case GgufType::kUint16: return "uint16";
    case GgufType::kInt16: return "int16";
    case GgufType::kUint32: return "uint32";
    case GgufType::kInt32: return "int32";
    case GgufType::kFloat32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "uint64";
    case GgufType::kInt64: return "int64";
    case GgufType::kFloat64: return "float64";
  }
  return "unknown";
}

}  // namespace lmpack
