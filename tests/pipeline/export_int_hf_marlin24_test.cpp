// compressed-tensors' marlin-24 layout for 2:4 sparse int4 models
// (pipeline/export_int_hf.h, model/load_hf_compressed.h): random models made
// 2:4 sparse (the two smallest of every four inputs set to zero) are
// quantized by RTN, written, loaded back and must decode exactly; the words
// are the packing of the supplied codes (formats/marlin24_packing.h, checked
// by hand there); the config; auto's choice and its reasons; explicit
// marlin-24 refused before anything is written; a supplied matrix that lost
// the 2:4 zeros named; broken files named by tensor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/error.h"
#include "formats/marlin24_packing.h"
#include "int_export_test_util.h"
#include "model/random_model.h"
#include "model/save_hf.h"
#include "pipeline/export_int_hf.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::check_loaded;
using testing::decoded;
using testing::expect_load_error;
using testing::is_linear;
using testing::max_logit_difference;
using testing::read_json;
using testing::rewrite;
using testing::RtnTensors;

std::string temp(const std::string& name) { return testing::temp_dir() + "/export_m24_" + name; }

// Rows and columns that fit vLLM's kernel (multiples of 128): k/v have 4 x 32 rows.
ModelConfig fitting_config(const std::string& arch) {
  ModelConfig c;
  c.architecture = arch;
  c.attn_qkv_bias = arch == "qwen2";
  c.dim = 128;
  c.hidden_dim = 256;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 4;
  c.head_dim = 32;
  c.vocab_size = 96;
  c.context_length = 64;
  c.tied_embeddings = false;
  if (arch == "phi3") c.rotary_dims = 16;
  if (arch == "mixtral") c.n_experts = 4, c.n_experts_used = 2, c.expert_hidden_dim = 256;
  return c;
}

// A random model of `c`, written dense, and again with the two smallest
// weights of every four inputs of each quantized linear set to zero.
struct Models {
  std::string dense, sparse;
};
Models random_models(const ModelConfig& c, uint64_t seed, const std::string& name) {
  Models m{temp(name + "_dense"), temp(name + "_sparse")};
  RandomModelSpec spec;
  spec.config = c;
  spec.seed = seed;
  write_random_model(spec, m.dense);
  Checkpoint ckpt = load_checkpoint(m.dense);
  std::vector<std::vector<float>> buffers;
  buffers.reserve(ckpt.tensors.size());
  for (auto& [n, t] : ckpt.tensors) {
    buffers.push_back(decoded(t));
    std::vector<float>& w = buffers.back();
    if (is_linear(n, t))
      for (size_t g = 0; g + 4 <= w.size(); g += 4) {
        int order[4] = {0, 1, 2, 3};
        std::sort(order, order + 4, [&](int a, int b) { return std::fabs(w[g + a]) < std::fabs(w[g + b]); });
        w[g + order[0]] = w[g + order[1]] = 0.0f;
      }
    t.dtype = DType::F32;
    t.data = reinterpret_cast<const uint8_t*>(w.data());
    t.nbytes = w.size() * 4;
  }
  save_hf(ckpt, m.sparse, DType::F32);
  return m;
}

const Models& qwen2_models() {
  static const Models m = random_models(fitting_config("qwen2"), 21, "qwen2");
  return m;
}

IntExportSpec marlin_spec(int64_t group = 128) {
  IntExportSpec s;
  s.format = IntExportFormat::kCompressedTensors;
  s.symmetric = true;
  s.group_size = group;
  return s;
}

IntGridSpec symmetric_grid(int bits = 4) {
  IntGridSpec g;
  g.bits = bits;
  g.symmetric = true;
  return g;
}

// Auto picks marlin-24 for a 2:4 model: the folder holds scale_packed,
// weight_packed and meta only, and loads back exactly, with q/k rows and
// Qwen2 biases, per group of 128 and per channel.
TEST(ExportIntHfMarlin24, SparseModelRoundTripsPerGroupAndPerChannel) {
  const Checkpoint src = load_checkpoint(qwen2_models().sparse);
  for (int64_t group : {int64_t{128}, int64_t{-1}}) {
    SCOPED_TRACE(group);
    RtnTensors t(src, symmetric_grid(), group);
    const std::string dir = temp(cat("qwen2_", group));
    const IntExportReport r = save_int_quantized_hf(src, dir, marlin_spec(group), t);
    EXPECT_EQ(r.layout, "marlin-24");
    EXPECT_NE(r.note.find("every linear is 2:4 sparse"), std::string::npos) << r.note;
    const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
    const std::string p = "model.layers.0.mlp.down_proj.";  // 128 x 256
    const int64_t ng = group == -1 ? 1 : 2;
    ASSERT_NE(st.find(p + "scale_packed"), nullptr);
    EXPECT_EQ(st.find(p + "scale_packed")->shape, (std::vector<int64_t>{ng, 128}));
    EXPECT_EQ(st.find(p + "scale_packed")->dtype, DType::F16);
    EXPECT_EQ(st.find(p + "weight_packed")->shape, (std::vector<int64_t>{8, 256}));
    EXPECT_EQ(st.find(p + "weight_packed")->dtype, DType::I32);
    EXPECT_EQ(st.find(p + "meta")->shape, (std::vector<int64_t>{8, 256}));
    EXPECT_EQ(st.find(p + "meta")->dtype, DType::I16);
    for (const char* gone : {"weight_scale", "weight_shape", "weight_zero_point", "weight"})
      EXPECT_EQ(st.find(p + gone), nullptr) << gone;
    EXPECT_NE(st.find("model.layers.0.self_attn.q_proj.bias"), nullptr);
    check_loaded(src, t, dir);
    EXPECT_LE(max_logit_difference(src, t, dir), 1e-5);
  }
}

// The file's arrays are the supplied codes and scales packed as
// formats/marlin24_packing.h describes; the config is llm-compressor's.
TEST(ExportIntHfMarlin24, WordsAndConfigAreTheLayoutOfTheSuppliedMatrix) {
  const Checkpoint src = load_checkpoint(qwen2_models().sparse);
  RtnTensors t(src, symmetric_grid(), 128);
  const std::string dir = temp("words");
  const IntExportReport r = save_int_quantized_hf(src, dir, marlin_spec(), t);
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  const std::string p = "model.layers.1.self_attn.o_proj.";  // no RoPE rows: HF order is lmpack's
  const QuantizedMatrix& m = t.given.at("blk.1.attn_output.weight");
  const int64_t out = 128, in = 128;
  std::vector<int32_t> words(marlin24_packed_rows(in) * marlin24_packed_cols(out, 4));
  std::vector<int16_t> meta(marlin24_meta_rows(in) * marlin24_meta_cols(out));
  ASSERT_EQ(pack_marlin24(words.data(), meta.data(), m.codes.data(), out, in, 4), -1);
  ASSERT_EQ(st.find(p + "weight_packed")->nbytes, words.size() * 4);
  EXPECT_EQ(std::memcmp(st.find(p + "weight_packed")->data, words.data(), words.size() * 4), 0);
  ASSERT_EQ(st.find(p + "meta")->nbytes, meta.size() * 2);
  EXPECT_EQ(std::memcmp(st.find(p + "meta")->data, meta.data(), meta.size() * 2), 0);
  std::vector<float> packed(out);  // one group: the scales as they are
  permute_marlin24_scales(packed.data(), m.scales.data(), 1, out);
  const auto* sc = reinterpret_cast<const uint16_t*>(st.find(p + "scale_packed")->data);
  for (int64_t i = 0; i < out; ++i) ASSERT_EQ(sc[i], f32_to_fp16(packed[i])) << i;

  // global_sparsity: percent of every parameter (embeddings, norms, biases too) that is zero.
  int64_t zeros = 0, total = 0;
  for (const auto& [name, ti] : src.tensors) {
    for (float v : decoded(ti)) zeros += v == 0.0f;
    total += ti.n_elements();
  }
  EXPECT_DOUBLE_EQ(r.global_sparsity, 100.0 * static_cast<double>(zeros) / static_cast<double>(total));
  EXPECT_GT(r.global_sparsity, 30.0);
  json q = read_json(dir + "/config.json")["quantization_config"];
  EXPECT_DOUBLE_EQ(q["sparsity_config"]["global_sparsity"].get<double>(), r.global_sparsity);
  q["sparsity_config"].erase("global_sparsity");
  EXPECT_EQ(q, json::parse(R"({
    "quant_method": "compressed-tensors", "format": "marlin-24", "quantization_status": "compressed",
    "sparsity_config": {"format": "dense", "sparsity_structure": "2:4", "targets": ["Linear"],
                        "ignore": ["lm_head"], "registry_requires_subclass": false},
    "config_groups": {"group_0": {"targets": ["Linear"],
      "weights": {"num_bits": 4, "type": "int", "symmetric": true, "strategy": "group", "group_size": 128,
                  "actorder": null, "block_structure": null, "dynamic": false, "observer": "minmax"},
      "input_activations": null, "output_activations": null}},
    "ignore": ["lm_head"], "kv_cache_scheme": null, "global_compression_ratio": null})"));
}

// Phi-3's q/k/v and gate/up, quantized apart, are stacked into qkv_proj and
// gate_up_proj before the 2:4 packing.
TEST(ExportIntHfMarlin24, Phi3FusedProjectionsStackThenPack) {
  const Models m = random_models(fitting_config("phi3"), 23, "phi3");
  const Checkpoint src = load_checkpoint(m.sparse);
  RtnTensors t(src, symmetric_grid(), 128);
  const std::string dir = temp("phi3");
  EXPECT_EQ(save_int_quantized_hf(src, dir, marlin_spec(), t).layout, "marlin-24");
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  ASSERT_NE(st.find("model.layers.1.self_attn.qkv_proj.meta"), nullptr);
  EXPECT_EQ(st.find("model.layers.1.self_attn.qkv_proj.scale_packed")->shape, (std::vector<int64_t>{1, 384}));
  EXPECT_EQ(st.find("model.layers.0.mlp.gate_up_proj.weight_packed")->shape, (std::vector<int64_t>{4, 1024}));
  check_loaded(src, t, dir);
  EXPECT_LE(max_logit_difference(src, t, dir), 1e-5);
}

// auto: a dense model is pack-quantized without a word; a 2:4 model that
// marlin-24 cannot hold is pack-quantized with the reason; pack-quantized
// asked for is written so.
TEST(ExportIntHfMarlin24, AutoSaysWhyItWritesPackQuantized) {
  const Checkpoint dense = load_checkpoint(qwen2_models().dense);
  const Checkpoint sparse = load_checkpoint(qwen2_models().sparse);
  IntExportReport r = choose_int_export_layout(dense, marlin_spec());
  EXPECT_EQ(r.layout, "pack-quantized");
  EXPECT_EQ(r.note, "");
  struct Case {
    IntExportSpec spec;
    const char* reason;
  };
  IntExportSpec asym = marlin_spec(), g64 = marlin_spec(64), eight = marlin_spec(), ordered = marlin_spec();
  asym.symmetric = false;
  eight.bits = 8;
  ordered.act_order = true;
  for (const Case& c : {Case{asym, "an asymmetric grid"}, Case{g64, "groups of 64"},
                        Case{eight, "8-bit codes (vLLM's marlin-24 scheme runs 4-bit only)"},
                        Case{ordered, "act order"}}) {
    r = choose_int_export_layout(sparse, c.spec);
    EXPECT_EQ(r.layout, "pack-quantized");
    EXPECT_NE(r.note.find(cat("every linear is 2:4 sparse, but marlin-24 cannot hold ", c.reason)), std::string::npos)
        << r.note;
  }
  IntExportSpec pq = marlin_spec();
  pq.ct_layout = CtLayout::kPackQuantized;
  r = choose_int_export_layout(sparse, pq);
  EXPECT_EQ(r.layout, "pack-quantized");
  EXPECT_EQ(r.note, "");
  RtnTensors t(sparse, symmetric_grid(), 128);
  const std::string dir = temp("asked_pq");
  EXPECT_EQ(save_int_quantized_hf(sparse, dir, pq, t).layout, "pack-quantized");
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  EXPECT_NE(st.find("model.layers.0.mlp.down_proj.weight_scale"), nullptr);
  EXPECT_EQ(st.find("model.layers.0.mlp.down_proj.meta"), nullptr);
  EXPECT_EQ(read_json(dir + "/config.json")["quantization_config"]["format"], "pack-quantized");
  check_loaded(sparse, t, dir);
}

void expect_refused(const Checkpoint& src, const IntExportSpec& spec, const std::string& fragment) {
  SCOPED_TRACE(fragment);
  const std::string dir = temp("refused");
  RtnTensors t(src, symmetric_grid(spec.bits), spec.group_size);
  try {
    save_int_quantized_hf(src, dir, spec, t);
    ADD_FAILURE() << "written";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "export.ct_layout");
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
  EXPECT_TRUE(t.asked.empty());  // before anything was quantized
  EXPECT_FALSE(fs::exists(dir));
}

// marlin-24 asked for: every obstacle is an error before anything is written.
TEST(ExportIntHfMarlin24, AskedForAndNotFittingIsRefusedBeforeWriting) {
  const Checkpoint dense = load_checkpoint(qwen2_models().dense);
  const Checkpoint sparse = load_checkpoint(qwen2_models().sparse);
  IntExportSpec s = marlin_spec();
  s.ct_layout = CtLayout::kMarlin24;
  expect_refused(dense, s, "marlin-24 needs a 2:4 sparse model: 'blk.0.");
  expect_refused(dense, s, "row 0 inputs 0..3 hold more than two non-zero weights");
  IntExportSpec bad = s;
  bad.symmetric = false;
  expect_refused(sparse, bad, "marlin-24 cannot hold an asymmetric grid");
  bad = s;
  bad.group_size = 32;
  expect_refused(sparse, bad, "marlin-24 cannot hold groups of 32");
  bad = s;
  bad.bits = 8;
  expect_refused(sparse, bad, "marlin-24 cannot hold 8-bit codes");
  bad = s;
  bad.format = IntExportFormat::kGptq;
  expect_refused(sparse, bad, "marlin-24 applies to format compressed-tensors, not gptq");

  ModelConfig narrow = fitting_config("llama");
  narrow.dim = 64;
  narrow.n_heads = 2;
  narrow.n_kv_heads = 2;
  const Models n = random_models(narrow, 25, "narrow");
  IntExportSpec per_channel = s;  // 64 inputs take no group of 128
  per_channel.group_size = -1;
  expect_refused(load_checkpoint(n.sparse), per_channel,
                 "(vLLM's marlin-24 kernel needs widths that are multiples of 128)");
  const Models moe = random_models(fitting_config("mixtral"), 27, "mixtral");
  expect_refused(load_checkpoint(moe.sparse), s,
                 "a mixture of experts (vLLM's fused experts read pack-quantized only)");
}

// A method that did not keep the zeros: the matrix is named with its row,
// and nothing is left.
TEST(ExportIntHfMarlin24, SuppliedMatrixWithoutTheZerosIsNamed) {
  const Checkpoint sparse = load_checkpoint(qwen2_models().sparse);
  const Checkpoint dense = load_checkpoint(qwen2_models().dense);
  RtnTensors t(dense, symmetric_grid(), 128);  // codes of the dense weights
  const std::string dir = temp("lost_zeros");
  try {
    save_int_quantized_hf(sparse, dir, marlin_spec(), t);
    FAIL() << "written";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), dir);
    const std::string what = e.what();
    EXPECT_NE(what.find("tensor 'blk.0."), std::string::npos) << what;
    EXPECT_NE(
        what.find("row 0 inputs 0..3 hold more than two codes other than zero; marlin-24 keeps two of every four"),
        std::string::npos)
        << what;
  }
  EXPECT_FALSE(fs::exists(dir));
}

// A broken marlin-24 folder names the file and the tensor.
TEST(ExportIntHfMarlin24, BrokenFilesNameTheTensor) {
  const Checkpoint src = load_checkpoint(qwen2_models().sparse);
  RtnTensors t(src, symmetric_grid(), 128);
  const std::string good = temp("good");
  save_int_quantized_hf(src, good, marlin_spec(), t);
  const std::string bad = temp("bad");
  const std::string k = "model.layers.1.self_attn.k_proj.";  // 128 x 128

  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>&) { return ti.name != k + "meta"; });
  expect_load_error(bad, "'" + k + "weight_packed' has no '" + k + "meta' beside it");
  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>& b) {
    if (ti.name == k + "meta") ti.shape = {8, 128}, b.resize(8 * 128 * 2);
    return true;
  });
  expect_load_error(bad, k + "meta': shape [8, 128]; expected [4, 256]");
  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>& b) {
    if (ti.name == k + "meta") {  // row 0's first word, group 0: the pair (1, 1)
      int16_t w;
      std::memcpy(&w, b.data(), 2);
      w = static_cast<int16_t>((static_cast<uint16_t>(w) & ~0xFu) | 0x5u);
      std::memcpy(b.data(), &w, 2);
    }
    return true;
  });
  expect_load_error(bad, k + "meta': row 0 inputs 0..3: the meta nibble names no pair of positions");
  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>& b) {
    if (ti.name == k + "scale_packed") ti.shape = {2, 64}, b.resize(2 * 64 * 2);
    return true;
  });
  expect_load_error(bad, k + "scale_packed': shape [2, 64]; expected [1, 128]");
  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>& b) {
    if (ti.name == k + "weight_packed") ti.shape = {4, 250}, b.resize(4 * 250 * 4);
    return true;
  });
  expect_load_error(bad, k + "weight_packed': shape [4, 250] holds [125, 128], which marlin-24 cannot");
  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>&) {
    if (ti.name == k + "meta") ti.name = k + "weight_scale";  // a pack-quantized part
    return true;
  });
  expect_load_error(bad, "tensor '" + k + "weight_scale' is not part of the marlin-24 format");

  // weight_shape is optional (the published compressor writes none); when present it must agree.
  auto with_shape = [&](int64_t out, int64_t in) {
    std::vector<uint8_t> bytes(16);
    const int64_t shape[2] = {out, in};
    std::memcpy(bytes.data(), shape, 16);
    rewrite(good, bad, [](TensorInfo&, std::vector<uint8_t>&) { return true; },
            {{{k + "weight_shape", DType::I64, {2}}, bytes}});
  };
  with_shape(128, 128);
  check_loaded(src, t, bad);
  with_shape(128, 256);
  expect_load_error(bad, k + "weight_shape': holds {128, 256}; '" + k + "weight_packed' holds [128, 128]");
}

}  // namespace
}  // namespace lmpack
