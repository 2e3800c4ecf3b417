// dequantize_compressed_tensors_linears; see load_hf_compressed.h.
#include "model/load_hf_compressed.h"

#include <array>
#include <cstring>
#include <optional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/parallel.h"
#include "core/printable.h"
#include "formats/decode.h"
#include "formats/int_packing.h"
#include "formats/marlin24_packing.h"
#include "io/json_text.h"
#include "model/config.h"

namespace lmpack {
namespace {

using nlohmann::json;

// The parts of one linear, by suffix.
constexpr const char* kParts[] = {".weight_packed", ".weight_scale", ".weight_zero_point", ".weight_shape",
                                  ".weight_g_idx",  ".scale_packed", ".meta"};
enum Part { kPacked, kScale, kZero, kShape, kGIdx, kScalePacked, kMeta, kPartCount };

struct Settings {
  int bits = 4;
  int64_t group_size = -1;  // -1: one group per row (strategy channel)
  bool symmetric = true;
  bool marlin24 = false;  // format "marlin-24" (else "pack-quantized")
  std::string where;
};

[[noreturn]] void bad_key(const std::string& where, const std::string& key, const std::string& problem) {
  throw Error(where, cat("key 'quantization_config.", key, "' ", problem));
}

// One config group's "weights" object.
Settings group_settings(const json& w, const std::string& where, const std::string& key) {
  if (!w.is_object()) bad_key(where, key, cat("must be an object, got ", json_excerpt(w)));
  Settings s;
  s.where = where;
  const json* bits = w.contains("num_bits") ? &w["num_bits"] : nullptr;
  if (bits == nullptr || !bits->is_number_integer() || (bits->get<int64_t>() != 4 && bits->get<int64_t>() != 8))
    bad_key(where, key + ".num_bits", cat("must be 4 or 8, got ", bits ? json_excerpt(*bits) : "nothing"));
  s.bits = static_cast<int>(bits->get<int64_t>());
  const std::string type = w.value("type", std::string("int"));
  if (type != "int") bad_key(where, key + ".type", cat("'", printable(type), "' is not supported (int)"));
  const json* sym = w.contains("symmetric") ? &w["symmetric"] : nullptr;
  if (sym != nullptr && !sym->is_boolean()) bad_key(where, key + ".symmetric", "must be true or false");
  s.symmetric = sym == nullptr || sym->get<bool>();
  const std::string strategy = w.value("strategy", std::string("group"));
  if (strategy == "group") {
    const json* gs = w.contains("group_size") ? &w["group_size"] : nullptr;
    if (gs == nullptr || !gs->is_number_integer() || gs->get<int64_t>() <= 0)
      bad_key(where, key + ".group_size", cat("must be a positive integer, got ", gs ? json_excerpt(*gs) : "nothing"));
    s.group_size = gs->get<int64_t>();
  } else if (strategy != "channel") {
    bad_key(where, key + ".strategy", cat("'", printable(strategy), "' is not supported (group, channel)"));
  }
  if (w.contains("dynamic") && w["dynamic"].is_boolean() && w["dynamic"].get<bool>())
    bad_key(where, key + ".dynamic", "true is not supported for weights");
  return s;
}

Settings parse_settings(const HfQuantConfigText& config) {
  const json j = parse_json_text(config.text, config.where);
  const std::string& where = config.where;
  if (!j.is_object() || !j.contains("quantization_config") || !j["quantization_config"].is_object())
    throw Error(where, "the model has compressed-tensors linears (.weight_packed) but no 'quantization_config' object");
  const json& q = j["quantization_config"];
  const std::string method = q.value("quant_method", std::string());
  if (method != "compressed-tensors")
    bad_key(where, "quant_method", cat("is '", printable(method), "'; .weight_packed tensors are compressed-tensors'"));
  const std::string format = q.value("format", std::string("pack-quantized"));
  if (format != "pack-quantized" && format != "marlin-24")
    bad_key(where, "format", cat("'", printable(format), "' is not supported (pack-quantized, marlin-24)"));
  if (q.contains("sparsity_config") && q["sparsity_config"].is_object() && !q["sparsity_config"].empty()) {
    const json& sc = q["sparsity_config"];
    const std::string sf = sc.contains("format") && sc["format"].is_string() ? sc["format"].get<std::string>() : "";
    if (sf != "dense")  // the sparse compressors (bitmask, 2:4 bitmask) store other tensors
      bad_key(where, "sparsity_config.format", cat("'", printable(sf), "' is not supported (dense)"));
  }
  if (!q.contains("config_groups") || !q["config_groups"].is_object() || q["config_groups"].empty())
    bad_key(where, "config_groups", "must be a non-empty object");
  std::optional<Settings> all;
  for (const auto& [name, group] : q["config_groups"].items()) {
    const std::string key = "config_groups." + name;
    if (!group.is_object()) bad_key(where, key, "must be an object");
    if (group.contains("format") && group["format"].is_string() && group["format"] != format)
      bad_key(where, key + ".format", cat("'", printable(group["format"].get<std::string>()),
                                          "' differs from the model's format '", printable(format), "'"));
    if (group.contains("input_activations") && !group["input_activations"].is_null())
      bad_key(where, key + ".input_activations", "is set: activation quantization is not supported");
    if (!group.contains("weights")) bad_key(where, key + ".weights", "is missing");
    const Settings s = group_settings(group["weights"], where, key + ".weights");
    if (all && (all->bits != s.bits || all->group_size != s.group_size || all->symmetric != s.symmetric))
      bad_key(where, key + ".weights", "differ from another group's; lmpack reads one setting for every linear");
    all = s;
  }
  all->marlin24 = format == "marlin-24";
  if (all->marlin24 && !all->symmetric)
    bad_key(where, "config_groups", "marlin-24 with an asymmetric grid: the layout stores no zero points");
  return *all;
}

[[noreturn]] void bad(const HfTensor& t, const std::string& problem) {
  throw Error(t.file, cat("tensor '", printable(t.info.name), "': ", problem));
}

// The values of an integer tensor of the given dtype and shape, as int64.
std::vector<int64_t> integers(const HfTensor& t, std::vector<int64_t> shape) {
  if (t.info.dtype != DType::I32 && t.info.dtype != DType::I64)
    bad(t, cat("dtype ", dtype_name(t.info.dtype), "; expected I32 or I64"));
  if (t.info.shape != shape) bad(t, cat("shape ", shape_string(t.info.shape), "; expected ", shape_string(shape)));
  std::vector<int64_t> v(static_cast<size_t>(t.info.n_elements()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t.info.dtype == DType::I32) {
      int32_t x;
      std::memcpy(&x, t.info.data + 4 * i, 4);
      v[i] = x;
    } else {
      std::memcpy(&v[i], t.info.data + 8 * i, 8);
    }
  }
  return v;
}

std::vector<int32_t> int32s(const HfTensor& t, std::vector<int64_t> shape) {
  if (t.info.dtype != DType::I32) bad(t, cat("dtype ", dtype_name(t.info.dtype), "; expected I32"));
  if (t.info.shape != shape) bad(t, cat("shape ", shape_string(t.info.shape), "; expected ", shape_string(shape)));
  std::vector<int32_t> v(static_cast<size_t>(t.info.n_elements()));
  if (!v.empty()) std::memcpy(v.data(), t.info.data, v.size() * 4);
  return v;
}

// Whether a part belongs to the format (weight_packed and weight_shape to both).
bool in_format(Part p, bool marlin24) {
  switch (p) {
    case kPacked:
    case kShape: return true;
    case kScalePacked:
    case kMeta: return marlin24;
    default: return !marlin24;
  }
}

[[noreturn]] void missing(const HfTensor& packed, const std::string& prefix, Part p) {
  throw Error(packed.file, cat("tensor '", printable(packed.info.name), "' has no '", printable(prefix), kParts[p],
                               "' beside it"));
}

std::vector<float> float_values(const HfTensor& t, const std::vector<int64_t>& shape) {
  if (t.info.shape != shape) bad(t, cat("shape ", shape_string(t.info.shape), "; expected ", shape_string(shape)));
  if (t.info.dtype != DType::F16 && t.info.dtype != DType::BF16 && t.info.dtype != DType::F32)
    bad(t, cat("dtype ", dtype_name(t.info.dtype), "; expected F16, BF16 or F32"));
  std::vector<float> v(static_cast<size_t>(t.info.n_elements()));
  decode_to_f32(v.data(), t.info.data, t.info.dtype, t.info.n_elements());
  return v;
}

// marlin-24: weight_packed [in/32, out·bits/2], scale_packed [n_groups, out],
// meta int16 [in/32, 2·out], weight_shape optional (the compressor writes none).
HfTensor dequantize_marlin24(const std::string& prefix, const HfTensor* const* part, const Settings& s,
                             Checkpoint& ckpt) {
  const HfTensor& packed = *part[kPacked];
  for (Part p : {kScalePacked, kMeta})
    if (part[p] == nullptr) missing(packed, prefix, p);
  const std::vector<int64_t>& ps = packed.info.shape;
  if (packed.info.dtype != DType::I32) bad(packed, cat("dtype ", dtype_name(packed.info.dtype), "; expected I32"));
  if (ps.size() != 2 || ps[0] <= 0 || ps[1] <= 0 || (2 * ps[1]) % s.bits != 0)
    bad(packed, cat("shape ", shape_string(ps), " is not marlin-24's [in/32, out·", s.bits, "/2]"));
  const int64_t in = ps[0] * 32, out = 2 * ps[1] / s.bits;
  if (out > kMaxModelWidth * 4 || in > kMaxModelWidth * 4 || !marlin24_layout_fits(out, in))
    bad(packed, cat("shape ", shape_string(ps), " holds [", out, ", ", in,
                    "], which marlin-24 cannot (outputs a multiple of 64, inputs of 32)"));
  if (part[kShape] != nullptr) {
    const std::vector<int64_t> shape = integers(*part[kShape], {2});
    if (shape[0] != out || shape[1] != in)
      bad(*part[kShape], cat("holds {", shape[0], ", ", shape[1], "}; '", printable(packed.info.name), "' holds [",
                             out, ", ", in, "]"));
  }
  const int64_t gs = s.group_size == -1 ? in : s.group_size;
  if (in % gs != 0) bad(packed, cat("its ", in, " inputs are not whole groups of ", gs));
  const int64_t n_groups = in / gs;
  const std::vector<float> permuted = float_values(*part[kScalePacked], {n_groups, out});
  const HfTensor& mt = *part[kMeta];
  if (mt.info.dtype != DType::I16) bad(mt, cat("dtype ", dtype_name(mt.info.dtype), "; expected I16"));
  if (mt.info.shape != std::vector<int64_t>{marlin24_meta_rows(in), marlin24_meta_cols(out)})
    bad(mt, cat("shape ", shape_string(mt.info.shape), "; expected [", marlin24_meta_rows(in), ", ",
                marlin24_meta_cols(out), "]"));
  std::vector<int16_t> meta(static_cast<size_t>(mt.info.n_elements()));
  std::memcpy(meta.data(), mt.info.data, meta.size() * 2);
  std::vector<int32_t> words(static_cast<size_t>(packed.info.n_elements()));
  std::memcpy(words.data(), packed.info.data, words.size() * 4);

  std::vector<float> scales(permuted.size());  // [n_groups, out]
  unpermute_marlin24_scales(scales.data(), permuted.data(), n_groups, out);

  std::vector<uint8_t> codes(static_cast<size_t>(out * in));
  const int64_t bad_group = unpack_marlin24(codes.data(), words.data(), meta.data(), out, in, s.bits);
  if (bad_group >= 0)
    bad(mt, cat("row ", bad_group / (in / 4), " inputs ", bad_group % (in / 4) * 4, "..", bad_group % (in / 4) * 4 + 3,
                ": the meta nibble names no pair of positions"));
  const float zero = static_cast<float>(1 << (s.bits - 1));
  auto buffer = std::make_shared<std::vector<float>>(static_cast<size_t>(out * in));
  float* w = buffer->data();
  parallel_for(out, [&](int64_t o) {
    for (int64_t c = 0; c < in; ++c)
      w[o * in + c] = scales[(c / gs) * out + o] * (static_cast<float>(codes[o * in + c]) - zero);
  });
  return dequantized_hf_tensor(prefix + ".weight", packed.file, out, in, std::move(buffer), ckpt);
}

HfTensor dequantize(const std::string& prefix, const HfTensor* const* part, const Settings& s, Checkpoint& ckpt) {
  if (s.marlin24) return dequantize_marlin24(prefix, part, s, ckpt);
  const HfTensor& packed = *part[kPacked];
  for (Part p : {kScale, kShape})
    if (part[p] == nullptr) missing(packed, prefix, p);
  const std::vector<int64_t> shape = integers(*part[kShape], {2});
  const int64_t out = shape[0], in = shape[1];
  if (out <= 0 || in <= 0 || out > kMaxModelWidth * 4 || in > kMaxModelWidth * 4)
    bad(*part[kShape], cat("holds {", out, ", ", in, "}, not a linear's shape"));
  const std::vector<int32_t> words = int32s(packed, {out, ct_packed_words(in, s.bits)});

  const HfTensor& sc = *part[kScale];
  const int64_t gs = s.group_size == -1 ? in : s.group_size;
  const int64_t n_groups = part[kGIdx] != nullptr && sc.info.shape.size() == 2 ? sc.info.shape[1] : (in + gs - 1) / gs;
  if (n_groups <= 0) bad(sc, cat("shape ", shape_string(sc.info.shape), "; expected [", out, ", ", n_groups, "]"));
  const std::vector<float> scales = float_values(sc, {out, n_groups});

  std::vector<int32_t> zeros(static_cast<size_t>(out * n_groups), 1 << (s.bits - 1));
  if (!s.symmetric) {
    if (part[kZero] == nullptr)
      throw Error(packed.file, cat("tensor '", printable(packed.info.name), "' is asymmetric (", s.where,
                                   ") but has no '", printable(prefix), ".weight_zero_point' beside it"));
    const std::vector<int32_t> z = int32s(*part[kZero], {ct_packed_words(out, s.bits), n_groups});
    unpack_ct_columns(zeros.data(), z.data(), out, n_groups, s.bits);
  }
  std::vector<int32_t> g_idx(static_cast<size_t>(in));
  if (part[kGIdx] != nullptr) {
    g_idx = int32s(*part[kGIdx], {in});
    for (int64_t c = 0; c < in; ++c)
      if (g_idx[c] < 0 || g_idx[c] >= n_groups)
        bad(*part[kGIdx], cat("g_idx[", c, "] = ", g_idx[c], " is outside the ", n_groups, " groups"));
  } else {
    for (int64_t c = 0; c < in; ++c) g_idx[c] = static_cast<int32_t>(c / gs);
  }

  std::vector<uint8_t> codes(static_cast<size_t>(out * in));
  unpack_ct_rows(codes.data(), words.data(), out, in, s.bits);
  auto buffer = std::make_shared<std::vector<float>>(static_cast<size_t>(out * in));
  float* w = buffer->data();
  parallel_for(out, [&](int64_t o) {
    for (int64_t c = 0; c < in; ++c) {
      const int64_t g = o * n_groups + g_idx[c];
      w[o * in + c] = scales[g] * static_cast<float>(static_cast<int32_t>(codes[o * in + c]) - zeros[g]);
    }
  });
  return dequantized_hf_tensor(prefix + ".weight", packed.file, out, in, std::move(buffer), ckpt);
}

}  // namespace

void dequantize_compressed_tensors_linears(const HfQuantConfigText& config, std::vector<HfTensor>& tensors,
                                           Checkpoint& ckpt) {
  std::map<std::string, std::array<const HfTensor*, kPartCount>> linears;  // prefix -> its parts
  for (const HfTensor& t : tensors)
    for (int k = 0; k < kPartCount; ++k) {
      const std::string& name = t.info.name;
      const size_t n = std::strlen(kParts[k]);
      if (name.size() > n && name.compare(name.size() - n, n, kParts[k]) == 0) {
        auto [it, fresh] = linears.try_emplace(name.substr(0, name.size() - n));
        if (fresh)
          for (auto& p : it->second) p = nullptr;
        it->second[k] = &t;
      }
    }
  bool any = false;
  for (const auto& [prefix, parts] : linears) any = any || parts[kPacked] != nullptr;
  if (!any) return;
  const Settings s = parse_settings(config);

  for (const auto& [prefix, parts] : linears) {  // a part of the other format would be left unread
    if (parts[kPacked] == nullptr) continue;
    for (int p = 0; p < kPartCount; ++p)
      if (parts[p] != nullptr && !in_format(static_cast<Part>(p), s.marlin24))
        throw Error(parts[p]->file, cat("tensor '", printable(parts[p]->info.name), "' is not part of the ",
                                        s.marlin24 ? "marlin-24" : "pack-quantized", " format (", s.where, ")"));
  }
  std::vector<HfTensor> result;
  std::map<const HfTensor*, bool> consumed;
  for (const auto& [prefix, parts] : linears) {
    if (parts[kPacked] == nullptr) continue;
    result.push_back(dequantize(prefix, parts.data(), s, ckpt));
    for (const HfTensor* t : parts)
      if (t != nullptr) consumed[t] = true;
  }
  for (const HfTensor& t : tensors)
    if (!consumed.count(&t)) result.push_back(t);
  tensors = std::move(result);
}

}  // namespace lmpack
