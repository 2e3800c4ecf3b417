#include "model/load_hf_int.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/printable.h"
#include "core/text_file.h"
#include "core/parallel.h"
#include "formats/decode.h"
#include "formats/int_packing.h"
#include "io/json_text.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSuffixes[] = {".qweight", ".qzeros", ".scales", ".g_idx"};

struct QuantConfig {
  enum class Method { kGptq, kAwq } method = Method::kGptq;
  int bits = 4;
  int64_t group_size = -1;   // -1: one group per row
  bool zeros_minus_one = true;  // GPTQ checkpoint_format "gptq"
  std::string where;         // the file it came from
};


std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

const json* find_key(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

int64_t int_key(const json& j, const char* key, const std::string& where, const std::string& prefix) {
  const json* v = find_key(j, key);
  if (v == nullptr) throw Error(where, cat("missing key '", prefix, key, "'"));
  if (!v->is_number_integer())
    throw Error(where, cat("key '", prefix, key, "' must be an integer, got ", json_excerpt(*v)));
  return v->get<int64_t>();
}

std::string string_key(const json& j, const char* key, const std::string& where, const std::string& prefix,
                       const std::string& fallback) {
  const json* v = find_key(j, key);
  if (v == nullptr) return fallback;
  if (!v->is_string()) throw Error(where, cat("key '", prefix, key, "' must be a string, got ", json_excerpt(*v)));
  return v->get<std::string>();
}

constexpr uint64_t kMaxConfigBytes = uint64_t{16} << 20;  // real ones are a few KB

json parse_object(std::string_view text, const std::string& where) {
  json j = parse_json_text(text, where);
  if (!j.is_object()) throw Error(where, cat("must be a JSON object, got ", j.type_name()));
  return j;
}

// The settings in `j` (`prefix` names where they sit inside the file, for messages).
QuantConfig parse_quant_settings(const json& j, const std::string& where, const std::string& prefix) {
  QuantConfig q;
  q.where = where;
  const std::string method = lower(string_key(j, "quant_method", q.where, prefix, ""));
  if (method == "gptq") {
    q.method = QuantConfig::Method::kGptq;
    const int64_t bits = int_key(j, "bits", q.where, prefix);
    if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
      throw Error(q.where, cat("key '", prefix, "bits' = ", bits, " is not supported for GPTQ (2, 3, 4, 8)"));
    q.bits = static_cast<int>(bits);
    q.group_size = int_key(j, "group_size", q.where, prefix);
    const std::string format = string_key(j, "checkpoint_format", q.where, prefix, "gptq");
    if (format == "gptq_v2")
      q.zeros_minus_one = false;
    else if (format != "gptq")
      throw Error(q.where, cat("key '", prefix, "checkpoint_format' = '", printable(format),
                               "' is not supported (gptq, gptq_v2)"));
  } else if (method == "awq") {
    q.method = QuantConfig::Method::kAwq;
    const bool has_bits = find_key(j, "bits") != nullptr;
    const int64_t bits = int_key(j, has_bits ? "bits" : "w_bit", q.where, prefix);
    if (bits != 4) throw Error(q.where, cat("AWQ with ", bits, " bits is not supported (4)"));
    q.bits = 4;
    q.group_size = int_key(j, find_key(j, "group_size") != nullptr ? "group_size" : "q_group_size", q.where, prefix);
    const std::string version = lower(string_key(j, "version", q.where, prefix, "gemm"));
    if (version != "gemm")
      throw Error(q.where, cat("key '", prefix, "version' = '", printable(version), "' is not supported (gemm)"));
    const json* zp = find_key(j, "zero_point");
    if (zp != nullptr && !(zp->is_boolean() && zp->get<bool>()))
      throw Error(q.where, cat("key '", prefix, "zero_point' = ", json_excerpt(*zp), " is not supported (true)"));
  } else {
    throw Error(q.where, cat("key '", prefix, "quant_method' = '", printable(method), "' is not supported (gptq, awq)"));
  }
  if (q.group_size == 0 || q.group_size < -1)
    throw Error(q.where, cat("group size ", q.group_size, " must be positive or -1"));
  return q;
}

QuantConfig parse_quant_config(const HfQuantConfigText& config) {
  json j = parse_object(config.text, config.where);
  switch (config.source) {
    case HfQuantSource::kConfigJson: {
      const json* qc = find_key(j, "quantization_config");
      if (qc == nullptr)
        throw Error(config.where, "the model has quantized linears (.qweight) but no 'quantization_config' (nor "
                                  "quantize_config.json / quant_config.json beside it)");
      if (!qc->is_object()) throw Error(config.where, "key 'quantization_config' must be an object");
      return parse_quant_settings(*qc, config.where, "quantization_config.");
    }
    case HfQuantSource::kQuantizeConfig:  // AutoGPTQ
      if (find_key(j, "quant_method") == nullptr) j["quant_method"] = "gptq";
      return parse_quant_settings(j, config.where, "");
    case HfQuantSource::kQuantConfig:  // AutoAWQ
      if (find_key(j, "quant_method") == nullptr) j["quant_method"] = "awq";
      return parse_quant_settings(j, config.where, "");
  }
  LMPACK_CHECK(false, "unknown HfQuantSource");
}

// config.json's quantization_config, else AutoGPTQ's quantize_config.json,
// else AutoAWQ's quant_config.json.
HfQuantConfigText find_quant_config(const std::string& dir) {
  const std::string config_path = dir + "/config.json";
  HfQuantConfigText c{read_text_file(config_path, kMaxConfigBytes, "config.json"), config_path,
                      HfQuantSource::kConfigJson};
  if (find_key(parse_object(c.text, config_path), "quantization_config") != nullptr) return c;
  for (auto [name, source] : {std::pair{"quantize_config.json", HfQuantSource::kQuantizeConfig},
                              std::pair{"quant_config.json", HfQuantSource::kQuantConfig}}) {
    const std::string path = dir + "/" + name;
    if (fs::exists(path)) return {read_text_file(path, kMaxConfigBytes, name), path, source};
  }
  return c;  // parse_quant_config() names what is missing
}

struct Parts {
  const HfTensor* part[4] = {nullptr, nullptr, nullptr, nullptr};  // qweight, qzeros, scales, g_idx
};

std::string shape_of(const HfTensor& t) { return shape_string(t.info.shape); }

[[noreturn]] void bad(const HfTensor& t, const std::string& problem) {
  throw Error(t.file, cat("tensor '", printable(t.info.name), "': ", problem));
}

// The int32 values of a 2-D (or 1-D when dims == 1) I32 tensor, copied out
// (safetensors offsets need not be 4-byte aligned).
std::vector<int32_t> int32_values(const HfTensor& t, size_t dims) {
  if (t.info.dtype != DType::I32) bad(t, cat("dtype ", dtype_name(t.info.dtype), "; expected I32"));
  if (t.info.shape.size() != dims) bad(t, cat("shape ", shape_of(t), " has ", t.info.shape.size(), " dimensions; expected ", dims));
  std::vector<int32_t> v(static_cast<size_t>(t.info.n_elements()));
  if (!v.empty()) std::memcpy(v.data(), t.info.data, v.size() * 4);
  return v;
}

void expect_shape(const HfTensor& t, std::vector<int64_t> shape) {
  if (t.info.shape != shape) bad(t, cat("shape ", shape_of(t), "; expected ", shape_string(shape)));
}

// Dequantizes one linear into an owned F32 buffer; returns its tensor.
HfTensor dequantize_linear(const std::string& prefix, const Parts& p, const QuantConfig& q, Checkpoint& ckpt) {
  const HfTensor& qw = *p.part[0];
  for (int k = 1; k < 3; ++k)
    if (p.part[k] == nullptr) throw Error(qw.file, cat("tensor '", printable(qw.info.name), "' has no '", printable(prefix), kSuffixes[k],
                                  "' beside it"));
  const HfTensor& qz = *p.part[1];
  const HfTensor& sc = *p.part[2];
  const bool gptq = q.method == QuantConfig::Method::kGptq;
  const std::vector<int32_t> qweight = int32_values(qw, 2);
  // An empty qweight may claim any width: refuse it before sizes are derived.
  if (qweight.empty()) bad(qw, cat("empty shape ", shape_of(qw)));
  int64_t in = 0, out = 0;
  if (gptq) {
    const int64_t unit_values = q.bits == 3 ? 32 : 32 / q.bits, unit_words = q.bits == 3 ? 3 : 1;
    if (qw.info.shape[0] % unit_words != 0)
      bad(qw, cat("shape ", shape_of(qw), ": ", qw.info.shape[0], " rows do not hold whole ", q.bits, "-bit values"));
    in = qw.info.shape[0] / unit_words * unit_values;
    out = qw.info.shape[1];
  } else {
    in = qw.info.shape[0];
    out = qw.info.shape[1] * 8;
  }
  if (in <= 0 || out <= 0) bad(qw, cat("empty shape ", shape_of(qw)));
  if (sc.info.shape.size() != 2 || sc.info.shape[1] != out || sc.info.shape[0] <= 0)
    bad(sc, cat("shape ", shape_of(sc), "; expected [n_groups, ", out, "]"));
  const int64_t n_groups = sc.info.shape[0];
  if (sc.info.dtype != DType::F16 && sc.info.dtype != DType::F32 && sc.info.dtype != DType::BF16)
    bad(sc, cat("dtype ", dtype_name(sc.info.dtype), "; expected F16, BF16 or F32"));
  std::vector<float> scales(static_cast<size_t>(n_groups * out));
  decode_to_f32(scales.data(), sc.info.data, sc.info.dtype, n_groups * out);

  std::vector<int32_t> zeros(static_cast<size_t>(n_groups * out));
  const std::vector<int32_t> qzeros = int32_values(qz, 2);
  if (gptq) {
    if (!gptq_packing_fits(out, q.bits))
      bad(qz, cat(out, " output columns do not fill whole int32 words at ", q.bits, " bits"));
    expect_shape(qz, {n_groups, gptq_packed_words(out, q.bits)});
    unpack_gptq_qzeros(zeros.data(), qzeros.data(), n_groups, out, q.bits);
    if (!q.zeros_minus_one)
      for (int32_t& z : zeros) z = (z - 1) & ((1 << q.bits) - 1);
  } else {
    expect_shape(qz, {n_groups, out / 8});
    unpack_awq_qzeros(zeros.data(), qzeros.data(), n_groups, out);
  }

  std::vector<int32_t> g_idx(static_cast<size_t>(in));
  if (p.part[3] != nullptr) {
    const HfTensor& gi = *p.part[3];
    g_idx = int32_values(gi, 1);
    expect_shape(gi, {in});
    for (int64_t c = 0; c < in; ++c)
      if (g_idx[c] < 0 || g_idx[c] >= n_groups)
        bad(gi, cat("g_idx[", c, "] = ", g_idx[c], " is outside the ", n_groups, " groups of '", printable(sc.info.name), "'"));
  } else {
    const int64_t gs = q.group_size == -1 ? in : q.group_size;
    const int64_t expected = in / gs + (in % gs != 0 ? 1 : 0);  // gs may be near INT64_MAX
    if (n_groups != expected)
      bad(sc, cat(n_groups, " groups; ", in, " inputs in groups of ", gs, " (", q.where, ") make ", expected));
    for (int64_t c = 0; c < in; ++c) g_idx[c] = static_cast<int32_t>(c / gs);
  }

  std::vector<uint8_t> codes(static_cast<size_t>(out * in));
  if (gptq)
    unpack_gptq_qweight(codes.data(), qweight.data(), out, in, q.bits);
  else
    unpack_awq_qweight(codes.data(), qweight.data(), out, in);

  auto buffer = std::make_shared<std::vector<float>>(static_cast<size_t>(out * in));
  float* w = buffer->data();
  parallel_for(out, [&](int64_t o) {
    for (int64_t c = 0; c < in; ++c) {
      const int64_t g = g_idx[c];
      w[o * in + c] = scales[g * out + o] * static_cast<float>(static_cast<int32_t>(codes[o * in + c]) - zeros[g * out + o]);
    }
  });
  return dequantized_hf_tensor(prefix + ".weight", qw.file, out, in, std::move(buffer), ckpt);
}

void dequantize_linears(std::vector<HfTensor>& tensors, Checkpoint& ckpt,
                        const std::function<HfQuantConfigText()>& config_text) {
  std::map<std::string, Parts> linears;  // prefix -> its parts
  for (const HfTensor& t : tensors)
    for (int k = 0; k < 4; ++k) {
      const std::string& name = t.info.name;
      const size_t n = std::strlen(kSuffixes[k]);
      if (name.size() > n && name.compare(name.size() - n, n, kSuffixes[k]) == 0)
        linears[name.substr(0, name.size() - n)].part[k] = &t;
    }
  bool any = false;
  for (const auto& [prefix, parts] : linears) {
    if (parts.part[0] != nullptr) {
      any = true;
      continue;
    }
    const HfTensor* some = parts.part[1] != nullptr ? parts.part[1] : parts.part[2] != nullptr ? parts.part[2] : parts.part[3];
    if (parts.part[1] != nullptr || parts.part[3] != nullptr)  // .scales alone may be something else's
      throw Error(some->file, cat("tensor '", printable(some->info.name), "' has no '", printable(prefix),
                                  ".qweight' beside it"));
  }
  if (!any) return;
  const QuantConfig q = parse_quant_config(config_text());

  std::vector<HfTensor> result;
  std::map<const HfTensor*, bool> consumed;
  for (const auto& [prefix, parts] : linears) {
    if (parts.part[0] == nullptr) continue;
    result.push_back(dequantize_linear(prefix, parts, q, ckpt));
    for (const HfTensor* t : parts.part)
      if (t != nullptr) consumed[t] = true;
  }
  for (const HfTensor& t : tensors)
    if (!consumed.count(&t)) result.push_back(t);
  tensors = std::move(result);
}

}  // namespace

HfTensor dequantized_hf_tensor(const std::string& name, const std::string& file, int64_t out, int64_t in,
                               std::shared_ptr<std::vector<float>> values, Checkpoint& ckpt) {
  HfTensor t;
  t.file = file;
  t.info.name = name;
  t.info.dtype = DType::F32;
  t.info.shape = {out, in};
  t.info.data = reinterpret_cast<const uint8_t*>(values->data());
  t.info.nbytes = values->size() * sizeof(float);
  ckpt.keep_alive.push_back(std::move(values));
  return t;
}

void dequantize_hf_int_linears(const std::string& dir, std::vector<HfTensor>& tensors, Checkpoint& ckpt) {
  dequantize_linears(tensors, ckpt, [&] { return find_quant_config(dir); });
}

void dequantize_hf_int_linears(const HfQuantConfigText& config, std::vector<HfTensor>& tensors, Checkpoint& ckpt) {
  dequantize_linears(tensors, ckpt, [&] { return config; });
}

void check_hf_quant_config(const HfQuantConfigText& config) { parse_quant_config(config); }

}  // namespace lmpack
