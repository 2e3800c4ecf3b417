// GgufWriter (io/gguf_writer.h): GGUF v3, little-endian, as ggml's gguf.cpp
// and gguf-py write it:
//   "GGUF" u32 version=3 u64 n_tensors u64 n_kv
//   n_kv x (string key, u32 type, value)        strings: u64 length + bytes
//   n_tensors x (string name, u32 n_dims, u64 ne[n_dims] (innermost first),
//                u32 ggml type, u64 offset into the data section)
//   zero padding to the alignment; then each tensor's bytes, each followed by
//   zero padding to the alignment (so every offset is a multiple of it).
// Offsets are fixed when tensors are declared, so the header is written
// before any tensor data and nothing is seeked back to.
#include "io/gguf_writer.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/temporaries.h"
#include "formats/format_sizes.h"

namespace lmpack {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747u;  // "GGUF" read as little-endian u32
constexpr uint32_t kGgufVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;
constexpr size_t kMaxNameBytes = 63;  // ggml's GGML_MAX_NAME (64) less the terminator
constexpr size_t kMaxDims = 4;        // GGML_MAX_DIMS
constexpr const char* kAlignmentKey = "general.alignment";

uint64_t padded(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

bool is_integer_type(GgufType t) {
  switch (t) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kUint16: case GgufType::kInt16:
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kUint64: case GgufType::kInt64:
      return true;
    default:
      return false;
  }
}

// Bytes are assembled in a string and handed to the file in one write.
class Encoder {
 public:
  template <typename T>
  void pod(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_.append(b, sizeof(T));
  }
  void str(std::string_view s) {
    pod<uint64_t>(s.size());
    out_ += s;
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Checks that a value can be written as its type says (a known type id,
// arrays nested at most 8 deep; GgufArray keeps elements of one type).
void check_value(const std::string& file, const std::string& key, const GgufValue& v, int depth) {
  if (static_cast<uint32_t>(v.type) > static_cast<uint32_t>(GgufType::kFloat64))
    throw Error(file, cat("metadata key ", key, ": unknown value type ", static_cast<uint32_t>(v.type)));
  if (v.type != GgufType::kArray) return;
  if (depth >= 8) throw Error(file, cat("metadata key ", key, ": arrays nested deeper than 8"));
  if (static_cast<uint32_t>(v.array.type()) > static_cast<uint32_t>(GgufType::kFloat64))
    throw Error(file, cat("metadata key ", key, ": unknown array element type ",
                          static_cast<uint32_t>(v.array.type())));
  if (v.array.type() == GgufType::kArray)
    for (size_t k = 0; k < v.array.size(); ++k) check_value(file, key, v.array.array_at(k), depth + 1);
}

void encode_value(Encoder& e, const GgufValue& v) {
  switch (v.type) {
    case GgufType::kUint8: e.pod<uint8_t>(static_cast<uint8_t>(v.u)); break;
    case GgufType::kInt8: e.pod<int8_t>(static_cast<int8_t>(v.i)); break;
    case GgufType::kUint16: e.pod<uint16_t>(static_cast<uint16_t>(v.u)); break;
    case GgufType::kInt16: e.pod<int16_t>(static_cast<int16_t>(v.i)); break;
    case GgufType::kUint32: e.pod<uint32_t>(static_cast<uint32_t>(v.u)); break;
    case GgufType::kInt32: e.pod<int32_t>(static_cast<int32_t>(v.i)); break;
    case GgufType::kUint64: e.pod<uint64_t>(v.u); break;
    case GgufType::kInt64: e.pod<int64_t>(v.i); break;
    case GgufType::kFloat32: e.pod<float>(static_cast<float>(v.f)); break;
    case GgufType::kFloat64: e.pod<double>(v.f); break;
    case GgufType::kBool: e.pod<uint8_t>(v.u != 0 ? 1 : 0); break;
    case GgufType::kString: e.str(v.str); break;
    case GgufType::kArray: {
      const GgufArray& a = v.array;
      e.pod<uint32_t>(static_cast<uint32_t>(a.type()));
      e.pod<uint64_t>(a.size());
      if (a.type() == GgufType::kString) {
        for (size_t k = 0; k < a.size(); ++k) e.str(a.string_at(k));
      } else if (a.type() == GgufType::kArray) {
        for (size_t k = 0; k < a.size(); ++k) encode_value(e, a.array_at(k));
      } else {
        for (size_t k = 0; k < a.size(); ++k) encode_value(e, a[k]);
      }
      break;
    }
  }
}

GgufValue scalar(GgufType type) {
  GgufValue v;
  v.type = type;
  return v;
}

}  // namespace

GgufWriter::GgufWriter(std::string path, uint64_t alignment)
    : path_(std::move(path)), shown_(output_name(path_)), alignment_(alignment) {
  if (alignment_ < 8 || alignment_ > (uint64_t{1} << 30) || (alignment_ & (alignment_ - 1)) != 0)
    throw Error(shown_, cat("GGUF alignment ", alignment_, " must be a power of two from 8 to 2^30"));
}

void GgufWriter::add(const std::string& key, GgufValue value) {
  if (data_begun_) throw Error(shown_, cat("metadata key ", key, " added after the tensor data began"));
  if (key.empty()) throw Error(shown_, "empty metadata key");
  for (const auto& [k, v] : metadata_)
    if (k == key) throw Error(shown_, cat("duplicate metadata key ", key));
  check_value(shown_, key, value, 0);
  if (key == kAlignmentKey) {
    // Copying metadata from another GGUF brings its alignment along: accept
    // it when it agrees with this writer's, refuse it otherwise.
    const bool agrees = is_integer_type(value.type) && value.u == alignment_;
    if (!agrees)
      throw Error(shown_, cat("metadata key ", key, " does not match the writer's alignment ", alignment_));
    value = scalar(GgufType::kUint32);
    value.u = alignment_;
    value.i = static_cast<int64_t>(alignment_);
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::add_u32(const std::string& key, uint32_t v) {
  GgufValue g = scalar(GgufType::kUint32);
  g.u = v;
  g.i = v;
  add(key, std::move(g));
}

void GgufWriter::add_i32(const std::string& key, int32_t v) {
  GgufValue g = scalar(GgufType::kInt32);
  g.i = v;
  if (v >= 0) g.u = static_cast<uint64_t>(v);
  add(key, std::move(g));
}

void GgufWriter::add_f32(const std::string& key, float v) {
  GgufValue g = scalar(GgufType::kFloat32);
  g.f = v;
  add(key, std::move(g));
}

void GgufWriter::add_bool(const std::string& key, bool v) {
  GgufValue g = scalar(GgufType::kBool);
  g.u = v ? 1 : 0;
  g.i = v ? 1 : 0;
  add(key, std::move(g));
}

void GgufWriter::add_string(const std::string& key, const std::string& v) {
  GgufValue g = scalar(GgufType::kString);
  g.str = v;
  add(key, std::move(g));
}

void GgufWriter::add_string_array(const std::string& key, const std::vector<std::string>& v) {
  GgufValue g = scalar(GgufType::kArray);
  g.array = GgufArray(GgufType::kString);
  for (const std::string& s : v) g.array.push_string(s);
  add(key, std::move(g));
}

void GgufWriter::add_f32_array(const std::string& key, const std::vector<float>& v) {
  GgufValue g = scalar(GgufType::kArray);
  g.array = GgufArray(GgufType::kFloat32);
  g.array.append_packed(reinterpret_cast<const uint8_t*>(v.data()), v.size());
  add(key, std::move(g));
}

void GgufWriter::add_i32_array(const std::string& key, const std::vector<int32_t>& v) {
  GgufValue g = scalar(GgufType::kArray);
  g.array = GgufArray(GgufType::kInt32);
  g.array.append_packed(reinterpret_cast<const uint8_t*>(v.data()), v.size());
  add(key, std::move(g));
}

void GgufWriter::add_tensor(const std::string& name, DType type, const std::vector<int64_t>& shape) {
  const std::string& path = shown_;
  if (data_begun_) throw Error(path, cat("tensor ", name, " declared after the tensor data began"));
  if (name.empty()) throw Error(path, "empty tensor name");
  if (name.size() > kMaxNameBytes)
    throw Error(path, cat("tensor name '", name, "' is ", name.size(), " bytes, GGUF readers allow at most ",
                          kMaxNameBytes));
  for (const Pending& t : tensors_)
    if (t.name == name) throw Error(path, cat("duplicate tensor ", name));
  if (shape.empty() || shape.size() > kMaxDims)
    throw Error(path, cat("tensor ", name, " has ", shape.size(), " dimensions (GGUF allows 1..", kMaxDims, ")"));
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) throw Error(path, cat("tensor ", name, " has shape ", shape_string(shape), " (dimensions must be positive)"));
    if (__builtin_mul_overflow(n, d, &n)) throw Error(path, cat("tensor ", name, " shape ", shape_string(shape), " overflows"));
  }
  if (!dtype_from_ggml_id(static_cast<uint32_t>(type)))
    throw Error(path, cat("tensor ", name, " has unknown type id ", static_cast<uint32_t>(type)));
  if (!dtype_row_fits(type, shape.back()))
    throw Error(path, cat("tensor ", name, " of type ", dtype_name(type), " has rows of ", shape.back(),
                          " elements, not a multiple of its block size ", dtype_block_elements(type)));
  Pending t;
  t.name = name;
  t.type = type;
  t.shape = shape;
  t.offset = data_size_;
  t.nbytes = dtype_bytes(type, n);
  data_size_ += padded(t.nbytes, alignment_);
  tensors_.push_back(std::move(t));
}

void GgufWriter::begin_data() {
  if (data_begun_) throw Error(shown_, "begin_data() called twice");
  // general.alignment is written only when it differs from GGUF's default.
  bool has_alignment = false;
  for (const auto& [k, v] : metadata_) has_alignment |= k == kAlignmentKey;
  if (!has_alignment && alignment_ != kDefaultAlignment) add_u32(kAlignmentKey, static_cast<uint32_t>(alignment_));
  data_begun_ = true;
  file_.emplace(path_);
  file_->write(encode_header());
  file_->pad_to_alignment(alignment_);
  data_start_ = file_->offset();
}

uint64_t GgufWriter::header_bytes() const {
  uint64_t n = encode_header().size();
  if (!data_begun_) {
    bool has_alignment = false;
    for (const auto& [k, v] : metadata_) has_alignment |= k == kAlignmentKey;
    if (!has_alignment && alignment_ != kDefaultAlignment)  // begin_data adds it: key, type, u32
      n += sizeof(uint64_t) + std::string(kAlignmentKey).size() + 2 * sizeof(uint32_t);
  }
  return (n + alignment_ - 1) / alignment_ * alignment_;
}

uint64_t GgufWriter::data_bytes() const { return data_size_; }

std::string GgufWriter::encode_header() const {
  Encoder e;
  e.pod<uint32_t>(kGgufMagic);
  e.pod<uint32_t>(kGgufVersion);
  e.pod<uint64_t>(tensors_.size());
  e.pod<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    e.str(key);
    e.pod<uint32_t>(static_cast<uint32_t>(value.type));
    encode_value(e, value);
  }
  for (const Pending& t : tensors_) {
    e.str(t.name);
    e.pod<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (size_t d = t.shape.size(); d-- > 0;) e.pod<uint64_t>(static_cast<uint64_t>(t.shape[d]));  // ne[0] innermost
    e.pod<uint32_t>(static_cast<uint32_t>(t.type));
    e.pod<uint64_t>(t.offset);
  }
  return e.bytes();
}

void GgufWriter::write_tensor(const std::string& name, const void* data, size_t nbytes) {
  if (!data_begun_) begin_data();
  if (next_tensor_ >= tensors_.size())
    throw Error(shown_, cat("tensor ", name, " written but all ", tensors_.size(), " declared tensors are done"));
  const Pending& t = tensors_[next_tensor_];
  if (t.name != name)
    throw Error(shown_, cat("tensor ", name, " written where ", t.name, " comes next (declaration order)"));
  if (written_in_tensor_ != 0)
    throw Error(shown_, cat("tensor ", name, " written whole after ", written_in_tensor_, " bytes were appended"));
  if (nbytes != t.nbytes)
    throw Error(shown_, cat("tensor ", name, " (", dtype_name(t.type), " ", shape_string(t.shape), ") needs ",
                                  t.nbytes, " bytes, got ", nbytes));
  append_tensor_bytes(data, nbytes);
  end_tensor();
}

void GgufWriter::append_tensor_bytes(const void* data, size_t nbytes) {
  if (!data_begun_) begin_data();
  if (next_tensor_ >= tensors_.size())
    throw Error(shown_, cat(nbytes, " tensor bytes appended but all ", tensors_.size(),
                                  " declared tensors are done"));
  const Pending& t = tensors_[next_tensor_];
  if (nbytes > t.nbytes - written_in_tensor_)
    throw Error(shown_, cat("tensor ", t.name, " needs ", t.nbytes, " bytes; appending ", nbytes, " after ",
                                  written_in_tensor_, " overruns it"));
  LMPACK_CHECK(file_->offset() == data_start_ + t.offset + written_in_tensor_, "GGUF writer lost its place");
  file_->write(data, nbytes);
  written_in_tensor_ += nbytes;
}

void GgufWriter::end_tensor() {
  if (!data_begun_ || next_tensor_ >= tensors_.size())
    throw Error(shown_, "end_tensor() without a tensor in progress");
  const Pending& t = tensors_[next_tensor_];
  if (written_in_tensor_ != t.nbytes)
    throw Error(shown_, cat("tensor ", t.name, " ended after ", written_in_tensor_, " of its ", t.nbytes,
                                  " bytes"));
  file_->pad_to_alignment(alignment_);
  written_in_tensor_ = 0;
  ++next_tensor_;
}

void GgufWriter::finish() {
  if (!data_begun_) begin_data();
  if (written_in_tensor_ != 0 || next_tensor_ != tensors_.size()) {
    const std::string& missing = tensors_[next_tensor_].name;
    throw Error(shown_, cat("finished with ", tensors_.size() - next_tensor_, " of ", tensors_.size(),
                                  " declared tensors unwritten (next: ", missing, "); no file written"));
  }
  LMPACK_CHECK(file_->offset() == data_start_ + data_size_, "GGUF data section size disagrees with the plan");
  file_->commit();
}

}  // namespace lmpack
