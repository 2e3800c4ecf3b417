// A SAX handler for the safetensors header (io/safetensors_header.h). The
// header's grammar is small: one object whose members are "__metadata__" (an
// object of strings) or a tensor {"dtype": string, "shape": [uint...],
// "data_offsets": [uint, uint]}; members of an entry beyond those three are
// skipped. Each event is checked against where it occurs, so an error names
// the tensor and the field and arrives as soon as the bad token is read.
#include "io/safetensors_header.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "core/printable.h"
#include "formats/format_sizes.h"

namespace lmpack {
namespace {

using nlohmann::json;

constexpr std::string_view kMetadataKey = "__metadata__";
constexpr size_t kMaxDims = 64;              // PyTorch's limit is lower
constexpr size_t kMaxTensors = size_t{1} << 20;

// A number where the grammar wants an unsigned integer: the value, or why not.
struct Number {
  enum class Kind { kNone, kOk, kNegative, kTooLarge, kNotInteger } kind = Kind::kNone;
  uint64_t value = 0;
  std::string text;  // as written, for the messages
};

class HeaderHandler : public nlohmann::json_sax<json> {
 public:
  HeaderHandler(const uint8_t* data, uint64_t data_size, const std::string& where, SafetensorsFile& out)
      : data_(data), data_size_(data_size), where_(where), out_(out) {}

  bool null() override { return scalar("null", {}); }
  bool boolean(bool) override { return scalar("boolean", {}); }
  bool number_integer(number_integer_t v) override {
    Number n;
    n.kind = v >= 0 ? Number::Kind::kOk : Number::Kind::kNegative;
    n.value = static_cast<uint64_t>(v);
    n.text = std::to_string(v);
    return scalar("number", n);
  }
  bool number_unsigned(number_unsigned_t v) override {
    Number n;
    n.kind = Number::Kind::kOk;
    n.value = v;
    return scalar("number", n);
  }
  bool number_float(number_float_t, const string_t& text) override {
    Number n;
    // An integer literal parses as a float only when it does not fit 64 bits.
    const bool integer_literal = text.find_first_not_of("-0123456789") == std::string::npos;
    n.kind = !integer_literal ? Number::Kind::kNotInteger
             : text[0] == '-' ? Number::Kind::kNegative
                              : Number::Kind::kTooLarge;
    n.text = printable(text, 40);
    return scalar("number", n);
  }
  bool string(string_t& s) override {
    if (skip_ > 0) return true;
    if (state_ == State::kMetadata) {
      if (!out_.metadata.emplace(key_, s).second)
        fail(cat("__metadata__ key '", printable(key_), "' appears twice"));
      return true;
    }
    if (state_ == State::kEntry && field_ == Field::kDtype) {
      if (dtype_name_) fail(cat(entry_what(), ": 'dtype' appears twice"));
      dtype_name_ = s;
      return true;
    }
    return scalar("string", Number{});
  }
  bool binary(binary_t&) override { return scalar("binary", Number{}); }

  bool start_object(std::size_t) override {
    if (skip_ > 0) return ++skip_, true;
    switch (state_) {
      case State::kStart:
        state_ = State::kRoot;
        return true;
      case State::kRoot:  // a member's value
        if (key_ == kMetadataKey) {
          if (seen_metadata_) fail("__metadata__ appears twice");
          seen_metadata_ = true;
          state_ = State::kMetadata;
        } else {
          begin_entry();
        }
        return true;
      case State::kEntry:
        if (field_ == Field::kOther) return skip_ = 1, true;
        break;
      default:
        break;
    }
    return scalar("object", Number{});
  }
  bool end_object() override {
    if (skip_ > 0) return --skip_, true;
    if (state_ == State::kMetadata || state_ == State::kEntry) {
      if (state_ == State::kEntry) end_entry();
      state_ = State::kRoot;
    } else if (state_ == State::kRoot) {
      state_ = State::kDone;
    }
    return true;
  }
  bool start_array(std::size_t) override {
    if (skip_ > 0) return ++skip_, true;
    if (state_ == State::kEntry && field_ == Field::kOther) return skip_ = 1, true;
    if (state_ == State::kEntry && (field_ == Field::kShape || field_ == Field::kOffsets)) {
      std::vector<uint64_t>& list = field_ == Field::kShape ? shape_ : offsets_;
      bool& seen = field_ == Field::kShape ? have_shape_ : have_offsets_;
      if (seen) fail(cat(entry_what(), ": '", field_name(), "' appears twice"));
      seen = true;
      list.clear();
      state_ = State::kList;
      return true;
    }
    return scalar("array", Number{});
  }
  bool end_array() override {
    if (skip_ > 0) return --skip_, true;
    if (state_ == State::kList) state_ = State::kEntry;
    return true;
  }
  bool key(string_t& k) override {
    if (skip_ > 0) return true;
    if (state_ == State::kRoot || state_ == State::kMetadata) {
      key_ = k;
    } else if (state_ == State::kEntry) {
      field_ = k == "dtype" ? Field::kDtype : k == "shape" ? Field::kShape : k == "data_offsets" ? Field::kOffsets
                                                                                                  : Field::kOther;
    }
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    // e.what() quotes the bytes last read, which may be anything.
    fail(cat("header is not valid JSON (at byte ", position, "): ", printable(e.what(), 160)));
  }

 private:
  enum class State { kStart, kRoot, kMetadata, kEntry, kList, kDone };
  enum class Field { kDtype, kShape, kOffsets, kOther };

  [[noreturn]] void fail(const std::string& problem) const { throw Error(where_, problem); }
  std::string entry_what() const { return cat("tensor '", printable(name_), "'"); }
  const char* field_name() const {
    return field_ == Field::kDtype ? "dtype" : field_ == Field::kShape ? "shape" : "data_offsets";
  }

  // Any scalar, or a container where the grammar has no place for one.
  bool scalar(const char* type, const Number& n) {
    if (skip_ > 0) return true;
    switch (state_) {
      case State::kStart:
        fail(cat("header must be a JSON object, got ", type));
      case State::kRoot:
        if (key_ == kMetadataKey) fail(cat("__metadata__ must be an object of strings, got ", type));
        fail(cat("tensor '", printable(key_), "': entry must be an object, got ", type));
      case State::kMetadata:
        fail(cat("__metadata__ value for '", printable(key_), "' must be a string, got ", type));
      case State::kEntry:
        if (field_ == Field::kOther) return true;
        if (field_ == Field::kDtype) fail(cat(entry_what(), ": dtype must be a string, got ", type));
        if (field_ == Field::kShape) fail(cat(entry_what(), ": shape must be an array, got ", type));
        fail(cat(entry_what(), ": data_offsets must be an array of two integers, got ", type));
      case State::kList: {
        const bool shape = field_ == Field::kShape;
        const std::string what = shape ? cat(entry_what(), ": shape dimension ", shape_.size())
                                       : cat(entry_what(), ": data_offsets[", offsets_.size(), "]");
        switch (n.kind) {
          case Number::Kind::kOk: break;
          case Number::Kind::kNegative: fail(cat(what, " is negative (", n.text, ")"));
          case Number::Kind::kTooLarge:
            if (shape) fail(cat(what, " ", n.text, " is too large"));
            fail(cat(what, " ", n.text, " is out of range: the data section has ", data_size_, " bytes"));
          case Number::Kind::kNotInteger: fail(cat(what, " must be a non-negative integer, got number ", n.text));
          case Number::Kind::kNone: fail(cat(what, " must be a non-negative integer, got ", type));
        }
        std::vector<uint64_t>& list = shape ? shape_ : offsets_;
        if (shape && list.size() >= kMaxDims) fail(cat(entry_what(), ": shape has more than ", kMaxDims, " dimensions"));
        if (!shape && list.size() >= 2)
          fail(cat(entry_what(), ": data_offsets must be an array of two integers, got more"));
        list.push_back(n.value);
        return true;
      }
      case State::kDone:
        break;
    }
    fail(cat("unexpected ", type, " after the header object"));
  }

  void begin_entry() {
    if (key_.empty()) fail("a tensor has an empty name");
    if (!names_.insert(key_).second) fail(cat("tensor '", printable(key_), "' appears twice"));
    if (out_.tensors.size() >= kMaxTensors) fail(cat("header holds more than ", kMaxTensors, " tensors"));
    name_ = key_;
    dtype_name_.reset();
    have_shape_ = have_offsets_ = false;
    shape_.clear();
    offsets_.clear();
    state_ = State::kEntry;
  }

  void end_entry() {
    const std::string what = entry_what();
    if (!dtype_name_) fail(cat(what, ": missing 'dtype'"));
    if (!have_shape_) fail(cat(what, ": missing 'shape'"));
    if (!have_offsets_) fail(cat(what, ": missing 'data_offsets'"));
    std::optional<DType> dtype = safetensors_dtype_from_name(*dtype_name_);
    if (!dtype)
      fail(cat(what, ": unknown dtype '", printable(*dtype_name_), "' (known: F32 F16 BF16 I8 I16 I32 I64 F64)"));
    TensorInfo t;
    t.name = name_;
    t.dtype = *dtype;
    int64_t elements = 1;
    bool overflow = false;
    for (uint64_t d : shape_) {
      if (d > static_cast<uint64_t>(INT64_MAX)) fail(cat(what, ": shape dimension ", d, " is too large"));
      t.shape.push_back(static_cast<int64_t>(d));
      overflow = overflow || __builtin_mul_overflow(elements, static_cast<int64_t>(d), &elements);
    }
    int64_t expected = 0;
    if (overflow || __builtin_mul_overflow(elements, dtype_block_bytes(*dtype), &expected))
      fail(cat(what, ": shape ", shape_string(t.shape), " overflows"));
    if (offsets_.size() != 2)
      fail(cat(what, ": data_offsets must be an array of two integers, got ", offsets_.size()));
    const uint64_t begin = offsets_[0], end = offsets_[1];
    const std::string span = cat("data_offsets [", begin, ", ", end, "]");
    if (end < begin) fail(cat(what, ": ", span, " end before begin"));
    if (end - begin != static_cast<uint64_t>(expected))
      fail(cat(what, ": ", span, " hold ", end - begin, " bytes but ", *dtype_name_, " ", shape_string(t.shape),
               " needs ", expected));
    if (end > data_size_)
      fail(cat(what, ": ", span, " run past the data section (", data_size_, " bytes; file truncated?)"));
    t.data = data_ + begin;
    t.nbytes = static_cast<size_t>(end - begin);
    out_.tensors.push_back(std::move(t));
  }

  const uint8_t* data_;
  uint64_t data_size_;
  const std::string& where_;
  SafetensorsFile& out_;

  State state_ = State::kStart;
  int skip_ = 0;           // depth inside a skipped (unknown) member's value
  std::string key_;        // the current member key of the root or __metadata__
  bool seen_metadata_ = false;
  std::unordered_set<std::string> names_;
  // The entry being read.
  std::string name_;
  Field field_ = Field::kOther;
  std::optional<std::string> dtype_name_;
  bool have_shape_ = false, have_offsets_ = false;
  std::vector<uint64_t> shape_, offsets_;
};

}  // namespace

void parse_safetensors_header(std::string_view json_text, const uint8_t* data, uint64_t data_size,
                              const std::string& where, SafetensorsFile& out) {
  HeaderHandler handler(data, data_size, where, out);
  json::sax_parse(json_text.begin(), json_text.end(), &handler);
}

}  // namespace lmpack
