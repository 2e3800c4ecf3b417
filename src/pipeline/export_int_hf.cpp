#include "pipeline/export_int_hf.h"

#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/atomic_folder.h"
#include "core/error.h"
#include "core/progress.h"
#include "formats/decode.h"
#include "formats/format_sizes.h"
#include "formats/int_packing.h"
#include "formats/marlin24_packing.h"
#include "io/safetensors.h"
#include "model/fused_projections.h"
#include "model/hf_tokenizer_export.h"
#include "model/hf_config.h"
#include "model/hf_names.h"
#include "model/loaders.h"
#include "model/rope_layout.h"
#include "model/save_gguf.h"
#include "model/tensor_names.h"
#include "model/save_hf.h"

namespace lmpack {
namespace {

bool is_gptq(const IntExportSpec& s) { return s.format == IntExportFormat::kGptq; }
bool is_ct(const IntExportSpec& s) { return s.format == IntExportFormat::kCompressedTensors; }
// After choose_int_export_layout: the marlin-24 layout.
bool is_marlin(const IntExportSpec& s) { return is_ct(s) && s.ct_layout == CtLayout::kMarlin24; }
const char* format_name(const IntExportSpec& s) { return int_export_format_name(s.format); }

// A block's linear weight: blk.N.<name>.weight with two dimensions.
// A block matrix the export quantizes: every one but a mixture of experts'
// router (ffn_gate_inp), which stays in float as quantizers keep it.
bool is_block_linear(const std::string& name, const TensorInfo& t) {
  if (is_expert_router(name)) return false;
  return name.rfind("blk.", 0) == 0 && t.shape.size() == 2 && name.size() > 7 &&
         name.compare(name.size() - 7, 7, ".weight") == 0;
}

// Block number of a blk.N.* name (model/tensor_names.h split_block), or -1.
int64_t block_of(const std::string& name) {
  int64_t layer = 0;
  std::string rest;
  return split_block(name, &layer, &rest) ? layer : -1;
}

int64_t effective_group(const IntExportSpec& s, int64_t in) { return s.group_size == -1 ? in : s.group_size; }

std::string json_double(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// ",\n  \"lmpack_recipe\": [...]" when the spec carries the steps that made the model.
std::string recipe_entry(const IntExportSpec& s, const std::string& i2) {
  if (s.recipe.empty()) return "";
  return cat(",\n", i2, "\"lmpack_recipe\": ", s.recipe);  // already JSON (pipeline/compress.h)
}

// marlin-24's sparsity_config: the sparsity is in the quantized layout
// ("dense" as a sparse compressor), as llm-compressor records it.
std::string sparsity_config_json(double global_sparsity, const std::string& i2) {
  const std::string i4 = i2 + "  ";
  return cat(i2, "\"sparsity_config\": {\n", i4, "\"format\": \"dense\",\n", i4, "\"global_sparsity\": ",
             json_double(global_sparsity), ",\n", i4, "\"sparsity_structure\": \"2:4\",\n", i4,
             "\"targets\": [\"Linear\"],\n", i4, "\"ignore\": [\"lm_head\"],\n", i4,
             "\"registry_requires_subclass\": false\n", i2, "},\n");
}

// compressed-tensors' quantization_config: one config group for every
// Linear but lm_head.
std::string compressed_tensors_config_json(const IntExportSpec& s, double global_sparsity, const std::string& indent) {
  const std::string i2 = indent + "  ", i4 = i2 + "  ", i6 = i4 + "  ", i8 = i6 + "  ";
  const bool channel = s.group_size == -1;
  return cat("{\n", i2, "\"quant_method\": \"compressed-tensors\",\n", i2, "\"format\": \"",
             is_marlin(s) ? "marlin-24" : "pack-quantized", "\",\n",
             is_marlin(s) ? sparsity_config_json(global_sparsity, i2) : "", i2,
             "\"quantization_status\": \"compressed\",\n", i2, "\"config_groups\": {\n", i4, "\"group_0\": {\n", i6,
             "\"targets\": [\"Linear\"],\n", i6, "\"weights\": {\n", i8, "\"num_bits\": ", s.bits, ",\n", i8,
             "\"type\": \"int\",\n", i8, "\"symmetric\": ", s.symmetric ? "true" : "false", ",\n", i8,
             "\"strategy\": \"", channel ? "channel" : "group", "\",\n", i8, "\"group_size\": ",
             channel ? std::string("null") : cat(s.group_size), ",\n", i8, "\"actorder\": ",
             s.act_order ? "\"weight\"" : "null", ",\n", i8, "\"block_structure\": null,\n", i8,
             "\"dynamic\": false,\n", i8, "\"observer\": \"minmax\"\n", i6, "},\n", i6,
             "\"input_activations\": null,\n", i6, "\"output_activations\": null\n", i4, "}\n", i2, "},\n", i2,
             "\"ignore\": [\"lm_head\"],\n", i2, "\"kv_cache_scheme\": null,\n", i2,
             "\"global_compression_ratio\": null", recipe_entry(s, i2), "\n", indent, "}");
}

// quantization_config (config.json) and the side file's text.
std::string quantization_config_json(const IntExportSpec& s, double global_sparsity, const std::string& indent) {
  const std::string i2 = indent + "  ";
  if (is_ct(s)) return compressed_tensors_config_json(s, global_sparsity, indent);
  if (is_gptq(s))
    return cat("{\n", i2, "\"quant_method\": \"gptq\",\n", i2, "\"bits\": ", s.bits, ",\n", i2,
               "\"group_size\": ", s.group_size, ",\n", i2, "\"desc_act\": ", s.act_order ? "true" : "false", ",\n",
               i2, "\"sym\": ", s.symmetric ? "true" : "false", ",\n", i2, "\"damp_percent\": ", json_double(s.damp),
               ",\n", i2, "\"true_sequential\": true,\n", i2, "\"static_groups\": ", s.act_order ? "true" : "false",
               ",\n", i2, "\"checkpoint_format\": \"gptq\",\n", i2, "\"model_name_or_path\": null,\n", i2,
               "\"model_file_base_name\": \"model\"", recipe_entry(s, i2), "\n", indent, "}");
  return cat("{\n", i2, "\"quant_method\": \"awq\",\n", i2, "\"bits\": 4,\n", i2, "\"group_size\": ", s.group_size,
             ",\n", i2, "\"zero_point\": true,\n", i2, "\"version\": \"gemm\",\n", i2,
             "\"modules_to_not_convert\": null", recipe_entry(s, i2), "\n", indent, "}");
}

std::string side_config_json(const IntExportSpec& s) {
  if (is_ct(s)) return "";  // compressed-tensors keeps everything in config.json
  if (is_gptq(s)) return quantization_config_json(s, 0.0, "") + "\n";
  return cat("{\n  \"zero_point\": true,\n  \"q_group_size\": ", s.group_size,
             ",\n  \"w_bit\": 4,\n  \"version\": \"GEMM\"\n}\n");
}

// config.json: save_hf's text (torch_dtype float16) with quantization_config added last.
std::string config_json(const Checkpoint& ckpt, const IntExportSpec& s, double global_sparsity) {
  HfConfigExtras extras;
  extras.torch_dtype = DType::F16;
  if (ckpt.vocab) {
    extras.bos_token_id = ckpt.vocab->bos_id;
    extras.eos_token_id = ckpt.vocab->eos_id;
  }
  std::string text = hf_config_to_json(ckpt.config, extras);
  const size_t close = text.rfind('}');
  LMPACK_CHECK(close != std::string::npos && close > 0);
  size_t end = close;
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == ' ')) --end;
  return cat(text.substr(0, end), ",\n  \"quantization_config\": ", quantization_config_json(s, global_sparsity, "  "),
             "\n}\n");
}

// One tensor of the output file.
enum class Kind { kFloat, kQWeight, kQZeros, kScales, kGIdx, kShape, kMeta };
struct Planned {
  Kind kind;
  std::string name;  // canonical name of the source tensor
  const TensorInfo* src;
  int64_t rope_heads = 0;
  bool last = false;  // the linear's last part: its packed arrays can go
  // Phi-3's qkv_proj / gate_up_proj: the linears whose rows, stacked, make
  // this one (src is the first); empty for a linear of its own.
  std::vector<const TensorInfo*> stacked;
};

// A linear's tensors, packed on its first entry and written over the next ones.
struct PackedLinear {
  std::vector<int32_t> qweight, qzeros, g_idx;
  std::vector<uint16_t> scales;  // fp16 [n_groups, out] (pack-quantized: [out, n_groups]; marlin-24: permuted)
  std::vector<int16_t> meta;     // marlin-24
  int64_t shape[2] = {0, 0};     // {out, in}
};

// Checks a supplied matrix against the tensor it replaces and the spec.
void check_matrix(const QuantizedMatrix& m, const TensorInfo& t, const IntExportSpec& s, const std::string& where) {
  const int64_t out = t.shape[0], in = t.shape[1];
  const int64_t gs = effective_group(s, in);
  const auto fail = [&](const std::string& problem) {
    throw Error(where, cat("tensor '", t.name, "' supplied for ", format_name(s), " export: ", problem));
  };
  if (!m.int_groups()) fail(cat("encoded as ", dtype_name(m.type), ", not integer groups"));
  if (m.rows != out || m.cols != in) fail(cat("shape [", m.rows, ", ", m.cols, "]; expected ", shape_string(t.shape)));
  if (m.group_size != gs || m.n_groups != in / gs)
    fail(cat("group size ", m.group_size, " with ", m.n_groups, " groups; the export wants ", gs, " with ", in / gs));
  if (m.codes.size() != static_cast<size_t>(out * in) || m.scales.size() != static_cast<size_t>(out * m.n_groups) ||
      m.zeros.size() != static_cast<size_t>(out * m.n_groups) ||
      !(m.g_idx.empty() || m.g_idx.size() == static_cast<size_t>(in)))
    fail("codes/scales/zeros/g_idx sizes do not match the shape");
  const int32_t maxq = (1 << s.bits) - 1;
  for (size_t i = 0; i < m.codes.size(); ++i)
    if (m.codes[i] > maxq) fail(cat("code ", int{m.codes[i]}, " at ", i, " exceeds ", maxq, " (", s.bits, " bits)"));
  for (size_t i = 0; i < m.zeros.size(); ++i) {
    if (m.zeros[i] < 0 || m.zeros[i] > maxq) fail(cat("zero point ", m.zeros[i], " outside [0, ", maxq, "]"));
    if (is_ct(s) && s.symmetric && m.zeros[i] != (maxq + 1) / 2)
      fail(cat("row ", i / m.n_groups, " group ", i % m.n_groups, " has zero point ", m.zeros[i],
               "; a symmetric compressed-tensors file stores none, which means ", (maxq + 1) / 2));
    if (is_gptq(s) && m.zeros[i] == 0)
      fail(cat("row ", i / m.n_groups, " group ", i % m.n_groups,
               " has zero point 0, which GPTQ's zero-minus-one layout (checkpoint_format gptq) cannot store "
               "(readers take it as ", maxq + 1, "); use a symmetric grid or the awq format"));
  }
  for (size_t i = 0; i < m.scales.size(); ++i)
    if (!std::isfinite(fp16_to_f32(f32_to_fp16(m.scales[i]))))
      fail(cat("scale ", m.scales[i], " (row ", i / m.n_groups, ") does not fit fp16"));
  const bool any_order = is_gptq(s) && s.act_order;  // desc_act: readers use g_idx as stored
  for (size_t c = 0; c < m.g_idx.size(); ++c) {
    const int32_t g = m.g_idx[c];
    if (g < 0 || g >= m.n_groups) fail(cat("g_idx[", c, "] = ", g, " outside [0, ", m.n_groups, ")"));
    if (!any_order && g != static_cast<int32_t>(static_cast<int64_t>(c) / gs))
      fail(cat("g_idx[", c, "] = ", g, " is not column / group size (", static_cast<int64_t>(c) / gs,
               "), which this layout requires without desc_act"));
  }
}

// A supplied matrix checked against its tensor, its rows in HF's order.
QuantizedMatrix hf_row_order(QuantizedMatrix m, const TensorInfo& t, int64_t rope_heads, const ModelConfig& c,
                             const IntExportSpec& s, const std::string& where) {
  check_matrix(m, t, s, where);
  const int64_t in = m.cols, ng = m.n_groups;
  if (rope_heads > 0) {  // adjacent pairs -> rotate-half, on every row-indexed array
    std::vector<uint8_t> codes(m.codes.size());
    permute_rope_rows(codes.data(), m.codes.data(), rope_heads, c.head_dim, static_cast<size_t>(in),
                      RopeLayout::kAdjacent, c.rotary_dims);
    m.codes = std::move(codes);
    std::vector<float> scales(m.scales.size());
    permute_rope_rows(scales.data(), m.scales.data(), rope_heads, c.head_dim, ng * sizeof(float), RopeLayout::kAdjacent, c.rotary_dims);
    m.scales = std::move(scales);
    std::vector<int32_t> zeros(m.zeros.size());
    permute_rope_rows(zeros.data(), m.zeros.data(), rope_heads, c.head_dim, ng * sizeof(int32_t), RopeLayout::kAdjacent, c.rotary_dims);
    m.zeros = std::move(zeros);
  }
  return m;
}

// Stacks `part`'s rows under `into`'s (a fused projection); the columns'
// groups must agree, as one g_idx serves every row.
void stack_rows(QuantizedMatrix& into, QuantizedMatrix part, const std::string& name, const std::string& where) {
  if (part.cols != into.cols || part.n_groups != into.n_groups || part.group_size != into.group_size ||
      part.g_idx != into.g_idx)
    throw Error(where, cat("tensor '", name, "' has other column groups (g_idx) than the tensors stacked before it; ",
                           "one fused HF matrix keeps one"));
  into.rows += part.rows;
  into.codes.insert(into.codes.end(), part.codes.begin(), part.codes.end());
  into.scales.insert(into.scales.end(), part.scales.begin(), part.scales.end());
  into.zeros.insert(into.zeros.end(), part.zeros.begin(), part.zeros.end());
}

PackedLinear pack_linear(const QuantizedMatrix& m, const IntExportSpec& s, const std::string& name,
                         const std::string& where) {
  const int64_t out = m.rows, in = m.cols, ng = m.n_groups;
  PackedLinear p;
  p.shape[0] = out;
  p.shape[1] = in;
  if (is_marlin(s)) {
    p.qweight.resize(static_cast<size_t>(marlin24_packed_rows(in) * marlin24_packed_cols(out, s.bits)));
    p.meta.resize(static_cast<size_t>(marlin24_meta_rows(in) * marlin24_meta_cols(out)));
    const int64_t bad = pack_marlin24(p.qweight.data(), p.meta.data(), m.codes.data(), out, in, s.bits);
    if (bad >= 0)
      throw Error(where, cat("tensor '", name, "': row ", bad / (in / 4), " inputs ", bad % (in / 4) * 4, "..",
                             bad % (in / 4) * 4 + 3, " hold more than two codes other than zero; marlin-24 keeps two "
                             "of every four (the method did not keep the model's 2:4 zeros; write the pack-quantized "
                             "layout)"));
    std::vector<float> transposed(static_cast<size_t>(ng * out)), permuted(transposed.size());
    for (int64_t o = 0; o < out; ++o)
      for (int64_t g = 0; g < ng; ++g) transposed[g * out + o] = m.scales[o * ng + g];
    permute_marlin24_scales(permuted.data(), transposed.data(), ng, out);
    p.scales.resize(permuted.size());
    for (size_t i = 0; i < permuted.size(); ++i) p.scales[i] = f32_to_fp16(permuted[i]);
    return p;
  }
  if (is_ct(s)) {  // rows as they are: [out, ·]
    p.qweight.resize(static_cast<size_t>(out * ct_packed_words(in, s.bits)));
    pack_ct_rows(p.qweight.data(), m.codes.data(), out, in, s.bits);
    p.scales.resize(m.scales.size());
    for (size_t i = 0; i < m.scales.size(); ++i) p.scales[i] = f32_to_fp16(m.scales[i]);
    if (!s.symmetric) {
      p.qzeros.resize(static_cast<size_t>(ct_packed_words(out, s.bits) * ng));
      pack_ct_columns(p.qzeros.data(), m.zeros.data(), out, ng, s.bits);
    }
    return p;
  }
  // scales and zeros: [out, n_groups] -> [n_groups, out]
  std::vector<int32_t> zeros_t(static_cast<size_t>(ng * out));
  p.scales.resize(static_cast<size_t>(ng * out));
  for (int64_t o = 0; o < out; ++o)
    for (int64_t g = 0; g < ng; ++g) {
      zeros_t[g * out + o] = m.zeros[o * ng + g];
      p.scales[g * out + o] = f32_to_fp16(m.scales[o * ng + g]);
    }
  if (is_gptq(s)) {
    p.qweight.resize(static_cast<size_t>(gptq_packed_words(in, s.bits) * out));
    pack_gptq_qweight(p.qweight.data(), m.codes.data(), out, in, s.bits);
    p.qzeros.resize(static_cast<size_t>(ng * gptq_packed_words(out, s.bits)));
    pack_gptq_qzeros(p.qzeros.data(), zeros_t.data(), ng, out, s.bits);
    p.g_idx.resize(static_cast<size_t>(in));
    for (int64_t col = 0; col < in; ++col)
      p.g_idx[col] = m.g_idx.empty() ? static_cast<int32_t>(col / m.group_size) : m.g_idx[col];
  } else {
    p.qweight.resize(static_cast<size_t>(in * out / 8));
    pack_awq_qweight(p.qweight.data(), m.codes.data(), out, in);
    p.qzeros.resize(static_cast<size_t>(ng * out / 8));
    pack_awq_qzeros(p.qzeros.data(), zeros_t.data(), ng, out);
  }
  return p;
}

// Every output tensor in file order: token_embd, then blocks in increasing N,
// then the rest; a linear as qweight, qzeros, scales (, g_idx).
std::vector<Planned> plan_tensors(const Checkpoint& ckpt, const IntExportSpec& s,
                                  std::vector<SafetensorsEntry>* entries) {
  const ModelConfig& c = ckpt.config;
  std::vector<std::string> head, tail;
  std::map<int64_t, std::vector<std::string>> blocks;
  for (const auto& [name, t] : ckpt.tensors) {
    if (c.tied_embeddings && name == "output.weight") continue;
    if (name == "rope_freqs.weight") {  // as save_hf: HF derives the factors from rope_scaling
      if (c.rope_scaling.type == RopeScaling::Type::kLlama3) continue;
      throw Error(ckpt.path, "tensor 'rope_freqs.weight' (per-frequency RoPE factors) has no Hugging Face form "
                             "without llama3 rope_scaling in the config");
    }
    FusedProjection fused;
    int part = 0;
    const bool is_part = hf_fused_projections(c.architecture) && find_fused_part(name, &fused, &part);
    if (is_part && part != 0) continue;  // exported with the first part
    if (!is_part && !canonical_to_hf_name(name, c.architecture))
      throw Error(ckpt.path, cat("tensor '", name, "' has no Hugging Face Llama name"));
    const int64_t b = block_of(name);
    if (b >= 0)
      blocks[b].push_back(name);
    else if (name == "token_embd.weight")
      head.push_back(name);
    else
      tail.push_back(name);
  }
  std::vector<std::string> order = head;
  for (const auto& [b, names] : blocks) order.insert(order.end(), names.begin(), names.end());
  order.insert(order.end(), tail.begin(), tail.end());

  std::vector<Planned> plan;
  for (const std::string& name : order) {
    const TensorInfo& t = ckpt.tensors.at(name);
    FusedProjection fused;
    int part = 0;
    std::vector<const TensorInfo*> stacked;
    int64_t out = t.shape.empty() ? 0 : t.shape[0];
    std::string hf;
    if (hf_fused_projections(c.architecture) && find_fused_part(name, &fused, &part)) {
      out = 0;
      for (const std::string& pn : fused.parts) {
        const TensorInfo* pt = ckpt.find(pn);
        if (pt == nullptr || !is_block_linear(pn, *pt) || pt->shape[1] != t.shape[1])
          throw Error(ckpt.path, cat("tensor '", pn, pt ? "' cannot be stacked with '" : "' is missing beside '", name, "'"));
        stacked.push_back(pt);
        out += pt->shape[0];
      }
      hf = *canonical_to_hf_name(fused.fused, c.architecture);
    } else {
      hf = *canonical_to_hf_name(name, c.architecture);
    }
    const int64_t heads = rope_heads(name, c);
    if (!is_block_linear(name, t)) {
      plan.push_back({Kind::kFloat, name, &t, heads, false, {}});
      entries->push_back({hf, DType::F16, t.shape});
      continue;
    }
    const std::string prefix = hf.substr(0, hf.size() - 7);  // without ".weight"
    const int64_t in = t.shape[1], ng = in / effective_group(s, in);
    std::vector<Kind> kinds;
    if (is_marlin(s)) {  // the compressor's order: scale_packed, weight_packed, meta
      entries->push_back({prefix + ".scale_packed", DType::F16, {ng, out}});
      entries->push_back(
          {prefix + ".weight_packed", DType::I32, {marlin24_packed_rows(in), marlin24_packed_cols(out, s.bits)}});
      entries->push_back({prefix + ".meta", DType::I16, {marlin24_meta_rows(in), marlin24_meta_cols(out)}});
      kinds = {Kind::kScales, Kind::kQWeight, Kind::kMeta};
    } else if (is_ct(s)) {
      entries->push_back({prefix + ".weight_packed", DType::I32, {out, ct_packed_words(in, s.bits)}});
      entries->push_back({prefix + ".weight_scale", DType::F16, {out, ng}});
      kinds = {Kind::kQWeight, Kind::kScales};
      if (!s.symmetric) {
        entries->push_back({prefix + ".weight_zero_point", DType::I32, {ct_packed_words(out, s.bits), ng}});
        kinds.push_back(Kind::kQZeros);
      }
      entries->push_back({prefix + ".weight_shape", DType::I64, {2}});
      kinds.push_back(Kind::kShape);
    } else if (is_gptq(s)) {
      entries->push_back({prefix + ".qweight", DType::I32, {gptq_packed_words(in, s.bits), out}});
      entries->push_back({prefix + ".qzeros", DType::I32, {ng, gptq_packed_words(out, s.bits)}});
      entries->push_back({prefix + ".scales", DType::F16, {ng, out}});
      entries->push_back({prefix + ".g_idx", DType::I32, {in}});
      kinds = {Kind::kQWeight, Kind::kQZeros, Kind::kScales, Kind::kGIdx};
    } else {
      entries->push_back({prefix + ".qweight", DType::I32, {in, out / 8}});
      entries->push_back({prefix + ".qzeros", DType::I32, {ng, out / 8}});
      entries->push_back({prefix + ".scales", DType::F16, {ng, out}});
      kinds = {Kind::kQWeight, Kind::kQZeros, Kind::kScales};
    }
    for (Kind k : kinds) plan.push_back({k, name, &t, heads, k == kinds.back(), stacked});
  }
  return plan;
}

}  // namespace

const char* int_export_format_name(IntExportFormat format) {
  switch (format) {
    case IntExportFormat::kGptq: return "gptq";
    case IntExportFormat::kAwq: return "awq";
    case IntExportFormat::kCompressedTensors: return "compressed-tensors";
  }
  return "?";
}

std::optional<IntExportFormat> parse_int_export_format(const std::string& name) {
  for (IntExportFormat f : {IntExportFormat::kGptq, IntExportFormat::kAwq, IntExportFormat::kCompressedTensors})
    if (name == int_export_format_name(f)) return f;
  return std::nullopt;
}

const char* ct_layout_name(CtLayout layout) {
  switch (layout) {
    case CtLayout::kAuto: return "auto";
    case CtLayout::kPackQuantized: return "pack-quantized";
    case CtLayout::kMarlin24: return "marlin-24";
  }
  return "?";
}

std::optional<CtLayout> parse_ct_layout(const std::string& name) {
  for (CtLayout l : {CtLayout::kAuto, CtLayout::kPackQuantized, CtLayout::kMarlin24})
    if (name == ct_layout_name(l)) return l;
  return std::nullopt;
}

namespace {

// What in the spec rules marlin-24 out ("" : nothing).
std::string marlin24_spec_obstacle(const IntExportSpec& s) {
  if (s.bits != 4) return cat(s.bits, "-bit codes (vLLM's marlin-24 scheme runs 4-bit only)");
  if (!s.symmetric) return "an asymmetric grid (marlin-24 stores no zero points)";
  if (s.group_size != 128 && s.group_size != -1)
    return cat("groups of ", s.group_size, " (marlin-24 takes groups of 128 or per channel)");
  if (s.act_order) return "act order (marlin-24 has no g_idx)";
  return "";
}

}  // namespace

void validate_int_export_spec(const IntExportSpec& spec) {
  if (!is_ct(spec) && spec.ct_layout != CtLayout::kAuto)
    throw Error("export.ct_layout", cat(ct_layout_name(spec.ct_layout), " applies to format compressed-tensors, not ",
                                        format_name(spec)));
  if (is_ct(spec)) {
    if (spec.bits != 4 && spec.bits != 8)
      throw Error("export.bits", cat(spec.bits, " is not a compressed-tensors pack-quantized width vLLM runs (4, 8)"));
    if (spec.group_size == 0 || spec.group_size < -1)
      throw Error("export.group_size", cat(spec.group_size, " must be positive or -1 (per channel)"));
    if (!(spec.damp >= 0.0 && std::isfinite(spec.damp)))
      throw Error("export.damp", cat(spec.damp, " must be a finite fraction >= 0"));
    if (spec.ct_layout == CtLayout::kMarlin24) {
      const std::string why = marlin24_spec_obstacle(spec);
      if (!why.empty()) throw Error("export.ct_layout", cat("marlin-24 cannot hold ", why));
    }
    return;
  }
  const bool gptq = is_gptq(spec);
  if (gptq && spec.bits != 2 && spec.bits != 3 && spec.bits != 4 && spec.bits != 8)
    throw Error("export.bits", cat(spec.bits, " is not a GPTQ width (2, 3, 4, 8)"));
  if (!gptq && spec.bits != 4) throw Error("export.bits", cat(spec.bits, ": the awq format stores 4-bit codes only"));
  if (!gptq && spec.symmetric)
    throw Error("export.format", "awq always stores a zero point (zero_point true); a symmetric grid has no awq form");
  if (spec.group_size == 0 || spec.group_size < -1)
    throw Error("export.group_size", cat(spec.group_size, " must be positive or -1 (per channel)"));
  if (!gptq && spec.group_size == -1)
    throw Error("export.group_size", "-1 (per channel) has no awq form; give a group size");
  if (!(spec.damp >= 0.0 && std::isfinite(spec.damp)))
    throw Error("export.damp", cat(spec.damp, " must be a finite fraction >= 0"));
}

void validate_int_export(const Checkpoint& ckpt, const IntExportSpec& spec) {
  validate_int_export_spec(spec);
  const bool gptq = is_gptq(spec);
  validate_checkpoint(ckpt);
  for (const auto& [name, t] : ckpt.tensors) {
    if (!is_block_linear(name, t)) continue;
    const int64_t out = t.shape[0], in = t.shape[1];
    const int64_t gs = effective_group(spec, in);
    if (in % gs != 0)
      throw Error("export.group_size", cat(gs, " does not divide the ", in, " input columns of '", name, "' ",
                                      shape_string(t.shape)));
    if (is_ct(spec)) {
      continue;  // lines are zero-padded to whole words
    } else if (gptq) {
      const int64_t unit = spec.bits == 3 ? 32 : 32 / spec.bits;
      if (!gptq_packing_fits(in, spec.bits))
        throw Error("export.bits", cat("'", name, "' ", shape_string(t.shape), ": qweight packs ", spec.bits,
                                  "-bit codes along the ", in, " input columns into int32 words, which needs a "
                                  "multiple of ", unit));
      if (!gptq_packing_fits(out, spec.bits))
        throw Error("export.bits", cat("'", name, "' ", shape_string(t.shape), ": qzeros packs ", spec.bits,
                                  "-bit zero points along the ", out, " output rows into int32 words, which needs "
                                  "a multiple of ", unit));
    } else if (out % 8 != 0) {
      throw Error("export.format", cat("awq packs 8 output rows per int32; '", name, "' ", shape_string(t.shape), " has ",
                                  out));
    }
  }
}

namespace {

// The first group of four inputs of a block linear with more than two
// non-zero weights, as "'NAME' row R inputs C..C+3" ("" : every linear is
// 2:4 sparse); counts the zeros of every tensor into *zeros (when 2:4).
std::string first_dense_group(const Checkpoint& ckpt, int64_t* zeros, int64_t* parameters) {
  std::vector<float> w;
  *zeros = *parameters = 0;
  for (const auto& [name, t] : ckpt.tensors) {
    if (ckpt.config.tied_embeddings && name == "output.weight") continue;
    const int64_t n = t.n_elements();
    w.resize(static_cast<size_t>(n));
    decode_to_f32(w.data(), t.data, t.dtype, n);
    if (is_block_linear(name, t)) {
      const int64_t in = t.shape[1];
      if (in % 4 != 0) return cat("'", name, "' has ", in, " inputs, not groups of four");
      for (int64_t g = 0; g < n / 4; ++g) {
        const float* q = w.data() + 4 * g;
        if (int{q[0] != 0.0f} + int{q[1] != 0.0f} + int{q[2] != 0.0f} + int{q[3] != 0.0f} > 2)
          return cat("'", name, "' row ", g / (in / 4), " inputs ", g % (in / 4) * 4, "..", g % (in / 4) * 4 + 3,
                     " hold more than two non-zero weights");
      }
    }
    for (float v : w) *zeros += v == 0.0f;
    *parameters += n;
  }
  return "";
}

// What in the model (besides its sparsity) rules marlin-24 out ("" : nothing).
std::string marlin24_model_obstacle(const Checkpoint& ckpt) {
  if (ckpt.config.n_experts > 0)
    return "a mixture of experts (vLLM's fused experts read pack-quantized only)";
  for (const auto& [name, t] : ckpt.tensors)
    if (is_block_linear(name, t) && (t.shape[0] % 128 != 0 || t.shape[1] % 128 != 0))
      return cat("'", name, "' ", shape_string(t.shape),
                 " (vLLM's marlin-24 kernel needs widths that are multiples of 128)");
  return "";
}

}  // namespace

IntExportReport choose_int_export_layout(const Checkpoint& ckpt, const IntExportSpec& spec) {
  IntExportReport r;
  r.layout = format_name(spec);
  if (!is_ct(spec)) return r;
  r.layout = ct_layout_name(CtLayout::kPackQuantized);
  if (spec.ct_layout == CtLayout::kPackQuantized) return r;
  const bool asked = spec.ct_layout == CtLayout::kMarlin24;
  const std::string spec_why = marlin24_spec_obstacle(spec);
  if (asked && !spec_why.empty()) throw Error("export.ct_layout", cat("marlin-24 cannot hold ", spec_why));
  int64_t zeros = 0, parameters = 0;
  const std::string dense = first_dense_group(ckpt, &zeros, &parameters);
  if (!dense.empty()) {
    if (asked) throw Error("export.ct_layout", cat("marlin-24 needs a 2:4 sparse model: ", dense));
    return r;  // a dense model: pack-quantized, nothing to say
  }
  const std::string why = spec_why.empty() ? marlin24_model_obstacle(ckpt) : spec_why;
  if (!why.empty()) {
    if (asked) throw Error("export.ct_layout", cat("marlin-24 cannot hold ", why));
    r.note = cat("every linear is 2:4 sparse, but marlin-24 cannot hold ", why, ": written dense as pack-quantized");
    return r;
  }
  r.layout = ct_layout_name(CtLayout::kMarlin24);
  r.note = asked ? "" : "every linear is 2:4 sparse: written as marlin-24 (vLLM's sparse int4 kernel)";
  r.global_sparsity = parameters > 0 ? 100.0 * static_cast<double>(zeros) / static_cast<double>(parameters) : 0.0;
  return r;
}

IntExportReport save_int_quantized_hf(const Checkpoint& ckpt, const std::string& out_dir, const IntExportSpec& spec,
                                      CalibratedTensors& tensors, const IntExportReport* chosen) {
  validate_int_export(ckpt, spec);
  const IntExportReport report = chosen != nullptr ? *chosen : choose_int_export_layout(ckpt, spec);
  IntExportSpec s = spec;  // the layout resolved
  if (is_ct(s)) s.ct_layout = parse_ct_layout(report.layout).value_or(CtLayout::kPackQuantized);
  const ModelConfig& c = ckpt.config;
  const std::string config_text = config_json(ckpt, s, report.global_sparsity);
  const std::string side_text = side_config_json(s);
  std::vector<SafetensorsEntry> entries;
  const std::vector<Planned> plan = plan_tensors(ckpt, s, &entries);

  AtomicFolder folder(out_dir, hf_output_files(), {ckpt.path});
  const std::string st_path = folder.file("model.safetensors");
  const std::string config_path = folder.file("config.json");
  const std::string side_path =
      is_ct(spec) ? "" : folder.file(is_gptq(spec) ? "quantize_config.json" : "quant_config.json");
  Progress progress(cat("export ", format_name(spec)), static_cast<int64_t>(plan.size()), "tensors");

  std::optional<PackedLinear> packed;
  std::vector<float> values, permuted;
  std::vector<uint8_t> bytes;
  auto produce = [&](size_t index, SafetensorsSink& sink) {
    throw_if_interrupted();
    const Planned& p = plan[index];
    const TensorInfo& t = *p.src;
    if (p.kind != Kind::kFloat && !packed) {  // a linear's first tensor: take and pack it
      QuantizedMatrix m;
      if (p.stacked.empty()) {
        m = hf_row_order(tensors.take_matrix(p.name), t, p.rope_heads, c, s, out_dir);
      } else {  // Phi-3: q, k, v (or gate, up) quantized apart, stacked into one HF matrix
        for (size_t i = 0; i < p.stacked.size(); ++i) {
          const TensorInfo& pt = *p.stacked[i];
          QuantizedMatrix one = hf_row_order(tensors.take_matrix(pt.name), pt, rope_heads(pt.name, c), c, s, out_dir);
          if (i == 0) m = std::move(one);
          else stack_rows(m, std::move(one), pt.name, out_dir);
        }
      }
      packed = pack_linear(m, s, p.name, out_dir);
    }
    switch (p.kind) {
      case Kind::kFloat: {
        const int64_t n = t.n_elements();
        if (block_of(p.name) >= 0 && tensors.handles(p.name)) {
          values = tensors.take_f32(p.name);
          if (values.size() != static_cast<size_t>(n))
            throw Error(out_dir, cat("tensor '", p.name, "': ", values.size(), " values supplied; expected ", n));
        } else {
          values.resize(static_cast<size_t>(n));
          decode_to_f32(values.data(), t.data, t.dtype, n);
        }
        if (is_norm_weight(p.name))  // Gemma: stored as scale - 1
          for (float& v : values) v -= hf_norm_offset(c.architecture);
        const float* ready = values.data();
        if (p.rope_heads > 0) {
          permuted.resize(values.size());
          permute_rope_rows(permuted.data(), values.data(), p.rope_heads, c.head_dim,
                            static_cast<size_t>(n / t.shape[0]) * sizeof(float), RopeLayout::kAdjacent, c.rotary_dims);
          ready = permuted.data();
        }
        bytes.resize(dtype_bytes(DType::F16, n));
        encode_f32_to(bytes.data(), ready, n, DType::F16, p.name);
        sink.write(bytes.data(), bytes.size());
        break;
      }
      case Kind::kQWeight:
        sink.write(packed->qweight.data(), packed->qweight.size() * 4);
        break;
      case Kind::kMeta:
        sink.write(packed->meta.data(), packed->meta.size() * 2);
        break;
      case Kind::kQZeros:
        sink.write(packed->qzeros.data(), packed->qzeros.size() * 4);
        break;
      case Kind::kScales:
        sink.write(packed->scales.data(), packed->scales.size() * 2);
        break;
      case Kind::kGIdx:
        sink.write(packed->g_idx.data(), packed->g_idx.size() * 4);
        break;
      case Kind::kShape:
        sink.write(packed->shape, sizeof(packed->shape));
        break;
    }
    if (p.last) packed.reset();
    progress.update(static_cast<int64_t>(index) + 1);
  };

  write_safetensors(st_path, entries, produce, {{"format", "pt"}});
  AtomicFile config(config_path);
  config.write(config_text);
  config.commit();
  if (!side_path.empty()) {
    AtomicFile side(side_path);
    side.write(side_text);
    side.commit();
  }
  write_hf_tokenizer_files(ckpt, folder);
  folder.commit();
  progress.finish();
  return report;
}

}  // namespace lmpack
