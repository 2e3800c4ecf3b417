// GGUF v2/v3 reader (see io/gguf.h). The parser trusts nothing in the file:
// every count is checked against the bytes that remain before anything is
// allocated for it, sizes are computed with overflow checks, and every error
// is one line "<path>: <problem>".
#include "io/gguf.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "core/error.h"

namespace lmpack {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747u;  // "GGUF" little-endian
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxArrayDepth = 8;             // arrays of arrays of ... (llama.cpp uses 1)
constexpr uint32_t kMaxDims = 4;
// Array elements in all metadata together. Real files hold about a million at
// most (256K-token vocabularies with scores, types and merges); the cap keeps
// a hostile multi-gigabyte header from costing hundreds of gigabytes of RAM.
constexpr uint64_t kMaxArrayElements = uint64_t{1} << 22;

// Keys and tensor names come from the file: keep error messages one short line.
std::string printable(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 80; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > 80) out += "...";
  return out;
}

// Smallest number of bytes one element of this type can occupy in the file.
uint64_t min_value_bytes(GgufType t) {
  switch (t) {
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
    case GgufType::kString:  // uint64 length
      return 8;
    case GgufType::kArray:  // uint32 type + uint64 count
      return 12;
  }
  return 1;
}

bool valid_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kFloat64); }

class Parser {
 public:
  Parser(const uint8_t* data, size_t size, std::string path)
      : r_(data, size, path), data_(data), path_(std::move(path)) {}

  GgufFile parse();

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw Error(path_, problem); }
  std::string read_string(std::string_view what) {
    uint64_t n = r_.read<uint64_t>(what);
    if (n > r_.remaining())
      fail(cat("string length ", n, " for ", what, " at offset ", r_.offset() - 8, " exceeds the ",
               r_.remaining(), " bytes left"));
    return r_.read_string(n, what);
  }
  GgufType read_type(std::string_view what) {
    uint32_t t = r_.read<uint32_t>(what);
    if (!valid_type(t)) fail(cat("unknown metadata value type ", t, " for ", what));
    return static_cast<GgufType>(t);
  }
  void read_value(GgufValue& v, GgufType type, const std::string& key, int depth);
  void read_tensor_info(TensorInfo& t, uint64_t& offset, const std::unordered_set<std::string>& seen);

  ByteReader r_;
  const uint8_t* data_;
  std::string path_;
  uint64_t array_elements_ = 0;
};

void Parser::read_value(GgufValue& v, GgufType type, const std::string& key, int depth) {
  v.type = type;
  switch (type) {
    case GgufType::kUint8: v.u = r_.read<uint8_t>(key); break;
    case GgufType::kUint16: v.u = r_.read<uint16_t>(key); break;
    case GgufType::kUint32: v.u = r_.read<uint32_t>(key); break;
    case GgufType::kUint64: v.u = r_.read<uint64_t>(key); break;
    case GgufType::kInt8: v.i = r_.read<int8_t>(key); break;
    case GgufType::kInt16: v.i = r_.read<int16_t>(key); break;
    case GgufType::kInt32: v.i = r_.read<int32_t>(key); break;
    case GgufType::kInt64: v.i = r_.read<int64_t>(key); break;
    case GgufType::kFloat32: v.f = r_.read<float>(key); break;
    case GgufType::kFloat64: v.f = r_.read<double>(key); break;
    case GgufType::kBool: {
      uint8_t b = r_.read<uint8_t>(key);
      if (b > 1) fail(cat("metadata key ", printable(key), ": bool value ", int{b}, " is neither 0 nor 1"));
      v.u = b;
      v.i = b;
      break;
    }
    case GgufType::kString: v.str = read_string(key); break;
    case GgufType::kArray: {
      if (depth >= kMaxArrayDepth)
        fail(cat("metadata key ", printable(key), ": arrays nested deeper than ", kMaxArrayDepth));
      v.array_type = read_type(key);
      uint64_t n = r_.read<uint64_t>(key);
      uint64_t min_bytes = min_value_bytes(v.array_type);
      if (n > r_.remaining() / min_bytes)
        fail(cat("metadata key ", printable(key), ": array of ", n, " ", gguf_type_name(v.array_type),
                 " needs at least ", min_bytes, " bytes each, only ", r_.remaining(), " left"));
      array_elements_ += n;
      if (array_elements_ > kMaxArrayElements)
        fail(cat("metadata key ", printable(key), ": more than ", kMaxArrayElements,
                 " array elements in the metadata (", n, " in this array)"));
      v.array.resize(n);
      for (uint64_t k = 0; k < n; ++k) read_value(v.array[k], v.array_type, key, depth + 1);
      return;
    }
  }
  // Mirror integers across u/i where they fit.
  if (type == GgufType::kUint8 || type == GgufType::kUint16 || type == GgufType::kUint32 ||
      type == GgufType::kUint64) {
    if (v.u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) v.i = static_cast<int64_t>(v.u);
  } else if (type == GgufType::kInt8 || type == GgufType::kInt16 || type == GgufType::kInt32 ||
             type == GgufType::kInt64) {
    if (v.i >= 0) v.u = static_cast<uint64_t>(v.i);
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
  const DTypeTraits* traits = dtype_traits(type_id);
  if (traits == nullptr) fail(cat("tensor '", shown, "' has unknown type id ", type_id));
  offset = r_.read<uint64_t>("tensor offset");

  t.dtype = traits->type;
  t.shape.assign(n_dims, 0);
  int64_t n_elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    t.shape[n_dims - 1 - d] = static_cast<int64_t>(ne[d]);
    if (__builtin_mul_overflow(n_elements, static_cast<int64_t>(ne[d]), &n_elements))
      fail(cat("tensor '", shown, "' element count overflows (shape ", shape_string(t.shape), ")"));
  }
  if (static_cast<int64_t>(ne[0]) % traits->block_elements != 0)
    fail(cat("tensor '", shown, "' of type ", traits->name, " has rows of ", ne[0],
             " elements, not a multiple of the block size ", traits->block_elements));
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(n_elements / traits->block_elements),
                             static_cast<uint64_t>(traits->block_bytes), &nbytes))
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

  std::unordered_set<std::string> keys;
  g.metadata.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = read_string("metadata key");
    if (!keys.insert(key).second) fail(cat("duplicate metadata key ", printable(key)));
    GgufType type = read_type(key);
    GgufValue v;
    read_value(v, type, key, 0);
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
  throw Error(path, cat("metadata key ", key, " has type ", gguf_type_name(got), ", expected ", expected));
}

int64_t value_as_int(const std::string& path, const std::string& key, const GgufValue& v) {
  if (!v.is_integer()) type_error(path, key, v.type, "an integer");
  if (v.type == GgufType::kUint64 && v.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw Error(path, cat("metadata key ", key, " value ", v.u, " does not fit in int64"));
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
  if (v == nullptr) throw Error(g.path, cat("metadata key ", key, " is missing"));
  if (v->type != GgufType::kArray) type_error(g.path, key, v->type, "array");
  return *v;
}

}  // namespace

GgufFile parse_gguf(const uint8_t* data, size_t size, const std::string& where) {
  return Parser(data, size, where).parse();
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
  if (v == nullptr) throw Error(g.path, cat("metadata key ", key, " is missing"));
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
  if (v.array_type != GgufType::kString) type_error(path, key, v.array_type, "array of string");
  std::vector<std::string> out;
  out.reserve(v.array.size());
  for (const GgufValue& e : v.array) out.push_back(e.str);
  return out;
}

std::vector<float> GgufFile::get_float_array(const std::string& key) const {
  const GgufValue& v = array_of(*this, key);
  GgufValue probe;
  probe.type = v.array_type;
  if (!probe.is_float() && !probe.is_integer()) type_error(path, key, v.array_type, "array of numbers");
  std::vector<float> out;
  out.reserve(v.array.size());
  for (const GgufValue& e : v.array) {
    out.push_back(static_cast<float>(value_as_float(path, key, e)));
  }
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue& v = array_of(*this, key);
  GgufValue probe;
  probe.type = v.array_type;
  if (!probe.is_integer())
    type_error(path, key, v.array_type, "array of integers");
  std::vector<int64_t> out;
  out.reserve(v.array.size());
  for (const GgufValue& e : v.array) out.push_back(value_as_int(path, key, e));
  return out;
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
