// GPTQ, AWQ and compressed-tensors safetensors exports
// (pipeline/export_int_hf.h) and loading them back (model/load_hf_int.h,
// model/load_hf_compressed.h): a random Llama/Qwen2 whose rows fit every
// width is quantized with RTN by a test CalibratedTensors, written, loaded
// with load_checkpoint, and every linear must decode to exactly
// fp16(scale) · (code - zero) of the matrix that was supplied, in the
// canonical (adjacent-pair) row order; the file's words are checked by hand
// against the public layouts; config keys; block order; failures leave
// nothing behind; bad specs and stories260K's 172-wide rows are refused
// before anything is written; broken files give errors naming the tensor.
#include "pipeline/export_int_hf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "core/error.h"
#include "formats/decode.h"
#include "io/safetensors.h"
#include "methods/gptq.h"
#include "model/hf_names.h"
#include "model/random_model.h"
#include "model/tensor_names.h"
#include "int_export_test_util.h"
#include "pipeline_test_models.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::check_loaded;
using testing::decoded;
using testing::expect_load_error;
using testing::expected_weights;
using testing::fp16_round;
using testing::is_linear;
using testing::max_logit_difference;
using testing::read_json;
using testing::rewrite;
using testing::RtnTensors;

std::string temp(const std::string& name) { return testing::temp_dir() + "/export_int_" + name; }

ModelConfig small_config(bool qwen2) {
  ModelConfig c;
  c.architecture = qwen2 ? "qwen2" : "llama";
  c.attn_qkv_bias = qwen2;
  c.dim = 64;
  c.hidden_dim = 128;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;  // k/v have 32 rows: one 3-bit qzeros unit
  c.head_dim = 16;
  c.vocab_size = 96;
  c.context_length = 64;
  c.tied_embeddings = false;
  return c;
}

const std::string& random_model_dir(bool qwen2) {
  static std::map<bool, std::string> dirs;
  auto it = dirs.find(qwen2);
  if (it != dirs.end()) return it->second;
  RandomModelSpec spec;
  spec.config = small_config(qwen2);
  spec.seed = qwen2 ? 11 : 5;
  const std::string dir = temp(qwen2 ? "random_qwen2" : "random_llama");
  write_random_model(spec, dir);
  return dirs[qwen2] = dir;
}


TEST(ExportIntHf, GptqRoundTripsEveryWidthSymAndAsym) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  for (int bits : {2, 3, 4, 8})
    for (bool sym : {false, true}) {
      SCOPED_TRACE(cat(bits, " bits, sym ", sym));
      IntExportSpec spec;
      spec.bits = bits;
      spec.symmetric = sym;
      spec.group_size = 32;
      IntGridSpec grid;
      grid.bits = bits;
      grid.symmetric = sym;
      RtnTensors t(src, grid, 32);
      const std::string dir = temp(cat("gptq", bits, sym ? "s" : "a"));
      save_int_quantized_hf(src, dir, spec, t);
      check_loaded(src, t, dir);
      EXPECT_LE(max_logit_difference(src, t, dir), 1e-5);
    }
}

TEST(ExportIntHf, AwqRoundTripsWithBiasesAndRopeRows) {
  const Checkpoint src = load_checkpoint(random_model_dir(true));  // qwen2: q/k/v biases
  IntExportSpec spec;
  spec.format = IntExportFormat::kAwq;
  spec.group_size = 32;
  IntGridSpec grid;
  RtnTensors t(src, grid, 32);
  const std::string dir = temp("awq");
  save_int_quantized_hf(src, dir, spec, t);
  check_loaded(src, t, dir);
  EXPECT_LE(max_logit_difference(src, t, dir), 1e-5);
  EXPECT_FALSE(fs::exists(dir + "/quantize_config.json"));
  const json q = read_json(dir + "/quant_config.json");
  EXPECT_EQ(q, json::parse(R"({"zero_point": true, "q_group_size": 32, "w_bit": 4, "version": "GEMM"})"));
  const json c = read_json(dir + "/config.json");
  EXPECT_EQ(c["quantization_config"],
            json::parse(R"({"quant_method": "awq", "bits": 4, "group_size": 32, "zero_point": true,
                            "version": "gemm", "modules_to_not_convert": null})"));
  EXPECT_EQ(c["torch_dtype"], "float16");
  EXPECT_EQ(c["architectures"][0], "Qwen2ForCausalLM");
}

// Phi-3 keeps q, k, v in one qkv_proj and gate, up in one gate_up_proj: the
// linears are quantized apart (as calibration sees them) and written stacked,
// q and k turned to HF's order on their 12 rotated rows only (partial
// rotary); every format loads back to exactly the matrices supplied.
TEST(ExportIntHf, Phi3FusedProjectionsStackAndLoadBackInEveryFormat) {
  ModelConfig c = small_config(false);
  c.architecture = "phi3";
  c.rotary_dims = 12;
  RandomModelSpec model;
  model.config = c;
  model.seed = 13;
  const std::string src_dir = temp("random_phi3");
  write_random_model(model, src_dir);
  const Checkpoint src = load_checkpoint(src_dir);
  for (IntExportFormat format : {IntExportFormat::kGptq, IntExportFormat::kAwq, IntExportFormat::kCompressedTensors}) {
    SCOPED_TRACE(int_export_format_name(format));
    IntExportSpec spec;
    spec.format = format;
    spec.group_size = 32;
    IntGridSpec grid;
    if (format == IntExportFormat::kGptq) grid.min_zero = 1;
    RtnTensors t(src, grid, 32);
    const std::string dir = temp(cat("phi3_", int_export_format_name(format)));
    save_int_quantized_hf(src, dir, spec, t);
    const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
    const std::string qkv = "model.layers.1.self_attn.qkv_proj.";
    const std::string words = format == IntExportFormat::kCompressedTensors ? "weight_packed" : "qweight";
    ASSERT_NE(st.find(qkv + words), nullptr);
    EXPECT_NE(st.find("model.layers.0.mlp.gate_up_proj." + words), nullptr);
    EXPECT_EQ(st.find("model.layers.1.self_attn.q_proj." + words), nullptr);
    // scales: [n_groups, out] (GPTQ, AWQ) or [out, n_groups]: out = 64 + 32 + 32 rows stacked
    const TensorInfo* scales = st.find(qkv + (format == IntExportFormat::kCompressedTensors ? "weight_scale" : "scales"));
    ASSERT_NE(scales, nullptr);
    EXPECT_EQ(scales->shape, format == IntExportFormat::kCompressedTensors ? (std::vector<int64_t>{128, 2})
                                                                          : (std::vector<int64_t>{2, 128}));
    check_loaded(src, t, dir);
    EXPECT_LE(max_logit_difference(src, t, dir), 1e-5);
  }
}

// A mixture of experts (Mixtral, 4 experts): every expert's matrices are
// quantized and written under their HF names, the router is kept in float
// (fp16 like the other float tensors), and the folder loads back exactly.
TEST(ExportIntHf, MixtralExpertsQuantizedRouterKeptInFloat) {
  ModelConfig c = small_config(false);
  c.architecture = "mixtral";
  c.n_experts = 4;
  c.n_experts_used = 2;
  c.expert_hidden_dim = c.hidden_dim;
  RandomModelSpec model;
  model.config = c;
  model.seed = 17;
  const std::string src_dir = temp("random_mixtral");
  write_random_model(model, src_dir);
  const Checkpoint src = load_checkpoint(src_dir);
  IntExportSpec spec;
  spec.group_size = 32;
  IntGridSpec grid;
  grid.min_zero = 1;
  RtnTensors t(src, grid, 32);
  const std::string dir = temp("mixtral_gptq");
  save_int_quantized_hf(src, dir, spec, t);
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  const TensorInfo* router = st.find("model.layers.1.block_sparse_moe.gate.weight");
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(router->dtype, DType::F16);
  EXPECT_EQ(router->shape, (std::vector<int64_t>{4, 64}));
  EXPECT_NE(st.find("model.layers.1.block_sparse_moe.experts.3.w2.qweight"), nullptr);
  EXPECT_EQ(st.find("model.layers.1.block_sparse_moe.gate.qweight"), nullptr);
  check_loaded(src, t, dir);
  EXPECT_LE(max_logit_difference(src, t, dir), 1e-5);
}

TEST(ExportIntHf, GptqConfigKeysPerChannelActOrder) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  IntExportSpec spec;
  spec.bits = 4;
  spec.group_size = -1;
  spec.act_order = true;
  spec.symmetric = true;
  spec.damp = 0.05;
  IntGridSpec grid;
  grid.symmetric = true;
  RtnTensors t(src, grid, -1);
  const std::string dir = temp("gptq_perchannel");
  save_int_quantized_hf(src, dir, spec, t);
  check_loaded(src, t, dir);
  const json want = json::parse(R"({"bits": 4, "group_size": -1, "desc_act": true, "sym": true,
      "damp_percent": 0.05, "true_sequential": true, "static_groups": true, "quant_method": "gptq",
      "checkpoint_format": "gptq", "model_name_or_path": null, "model_file_base_name": "model"})");
  EXPECT_EQ(read_json(dir + "/quantize_config.json"), want);
  const json c = read_json(dir + "/config.json");
  EXPECT_EQ(c["quantization_config"], want);
  EXPECT_EQ(c["torch_dtype"], "float16");
  EXPECT_EQ(c["hidden_size"], 64);
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  const TensorInfo* g = st.find("model.layers.1.mlp.down_proj.g_idx");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->shape, (std::vector<int64_t>{128}));
  for (int64_t i = 0; i < 128; ++i) EXPECT_EQ(reinterpret_cast<const int32_t*>(g->data)[i], 0);
  EXPECT_EQ(st.find("model.layers.1.mlp.down_proj.scales")->shape, (std::vector<int64_t>{1, 64}));
}

// The stored words, read by hand: GPTQ qweight column o is row o's codes as a
// bit stream along the input; q_proj's columns are in rotate-half order.
TEST(ExportIntHf, GptqWordsFollowThePublicLayout) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  IntExportSpec spec;
  spec.bits = 4;
  spec.group_size = 32;
  IntGridSpec grid;
  RtnTensors t(src, grid, 32);
  const std::string dir = temp("gptq_words");
  save_int_quantized_hf(src, dir, spec, t);
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  const auto i32 = [&](const std::string& name) { return reinterpret_cast<const int32_t*>(st.find(name)->data); };
  const std::string p = "model.layers.0.self_attn.";
  EXPECT_EQ(st.find(p + "q_proj.qweight")->shape, (std::vector<int64_t>{8, 64}));
  EXPECT_EQ(st.find(p + "k_proj.qzeros")->shape, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(st.find(p + "k_proj.scales")->dtype, DType::F16);
  EXPECT_EQ(st.find(p + "k_proj.g_idx")->dtype, DType::I32);
  const QuantizedMatrix& v = t.given.at("blk.0.attn_v.weight");  // 32 x 64, no RoPE
  const QuantizedMatrix& q = t.given.at("blk.0.attn_q.weight");  // 64 x 64, 4 heads of 16
  for (int64_t r = 0; r < 8; ++r)
    for (int64_t o = 0; o < 64; ++o) {
      // HF row o of q is canonical row 2i + c for o = 16h + 8c + i.
      const int64_t h = o / 16, c = (o % 16) / 8, i = o % 8, canon = 16 * h + 2 * i + c;
      uint32_t wq = 0;
      for (int j = 0; j < 8; ++j) wq |= uint32_t{q.codes[canon * 64 + 8 * r + j]} << (4 * j);
      ASSERT_EQ(static_cast<uint32_t>(i32(p + "q_proj.qweight")[r * 64 + o]), wq) << r << "," << o;
      if (o < 32) {
        uint32_t wv = 0;
        for (int j = 0; j < 8; ++j) wv |= uint32_t{v.codes[o * 64 + 8 * r + j]} << (4 * j);
        ASSERT_EQ(static_cast<uint32_t>(i32(p + "v_proj.qweight")[r * 32 + o]), wv);
      }
    }
  // qzeros row g: (zero - 1) & 15 of 8 consecutive output rows per word.
  for (int64_t g = 0; g < 2; ++g) {
    uint32_t wz = 0;
    for (int j = 0; j < 8; ++j) wz |= static_cast<uint32_t>((v.zeros[j * 2 + g] - 1) & 15) << (4 * j);
    EXPECT_EQ(static_cast<uint32_t>(i32(p + "v_proj.qzeros")[g * 4]), wz);
    EXPECT_EQ(reinterpret_cast<const uint16_t*>(st.find(p + "v_proj.scales")->data)[g * 32 + 5],
              f32_to_fp16(v.scales[5 * 2 + g]));
  }
  EXPECT_EQ(st.find("model.embed_tokens.weight")->dtype, DType::F16);
  EXPECT_EQ(st.find(p + "q_proj.weight"), nullptr);
}

TEST(ExportIntHf, AwqWordsFollowThePublicLayout) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  IntExportSpec spec;
  spec.format = IntExportFormat::kAwq;
  spec.group_size = 32;
  IntGridSpec grid;
  RtnTensors t(src, grid, 32);
  const std::string dir = temp("awq_words");
  save_int_quantized_hf(src, dir, spec, t);
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  const std::string p = "model.layers.1.mlp.up_proj.";  // 128 x 64
  ASSERT_EQ(st.find(p + "qweight")->shape, (std::vector<int64_t>{64, 16}));
  ASSERT_EQ(st.find(p + "qzeros")->shape, (std::vector<int64_t>{2, 16}));
  EXPECT_EQ(st.find(p + "g_idx"), nullptr);
  const QuantizedMatrix& m = t.given.at("blk.1.ffn_up.weight");
  const auto* qw = reinterpret_cast<const int32_t*>(st.find(p + "qweight")->data);
  const auto* qz = reinterpret_cast<const int32_t*>(st.find(p + "qzeros")->data);
  const int order[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  for (int64_t c = 0; c < 64; ++c)
    for (int64_t k = 0; k < 16; ++k) {
      uint32_t w = 0;
      for (int i = 0; i < 8; ++i) w |= uint32_t{m.codes[(8 * k + order[i]) * 64 + c]} << (4 * i);
      ASSERT_EQ(static_cast<uint32_t>(qw[c * 16 + k]), w);
    }
  for (int64_t g = 0; g < 2; ++g)
    for (int64_t k = 0; k < 16; ++k) {
      uint32_t w = 0;
      for (int i = 0; i < 8; ++i) w |= static_cast<uint32_t>(m.zeros[(8 * k + order[i]) * 2 + g]) << (4 * i);
      ASSERT_EQ(static_cast<uint32_t>(qz[g * 16 + k]), w);
    }
}

// compressed-tensors pack-quantized: every width, symmetric and not, per
// group and per channel, with q/k rows and Qwen2 biases; exact decode.
TEST(ExportIntHf, CompressedTensorsRoundTripsEveryWidthSymAndAsym) {
  const Checkpoint src = load_checkpoint(random_model_dir(true));
  for (int bits : {4, 8})
    for (bool sym : {false, true})
      for (int64_t group : {int64_t{32}, int64_t{-1}}) {
        SCOPED_TRACE(cat(bits, " bits, sym ", sym, ", group ", group));
        IntExportSpec spec;
        spec.format = IntExportFormat::kCompressedTensors;
        spec.bits = bits;
        spec.symmetric = sym;
        spec.group_size = group;
        IntGridSpec grid;
        grid.bits = bits;
        grid.symmetric = sym;
        RtnTensors t(src, grid, group);
        const std::string dir = temp(cat("ct", bits, sym ? "s" : "a", group));
        save_int_quantized_hf(src, dir, spec, t);
        check_loaded(src, t, dir);
        EXPECT_LE(max_logit_difference(src, t, dir), 1e-5);
        EXPECT_FALSE(fs::exists(dir + "/quantize_config.json"));
        EXPECT_FALSE(fs::exists(dir + "/quant_config.json"));
      }
}

// The words and the config against the published description, by hand.
TEST(ExportIntHf, CompressedTensorsWordsAndConfigFollowThePublicLayout) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  IntExportSpec spec;
  spec.format = IntExportFormat::kCompressedTensors;
  spec.group_size = 32;
  spec.act_order = true;
  IntGridSpec grid;  // asymmetric 4-bit
  RtnTensors t(src, grid, 32);
  const std::string dir = temp("ct_words");
  save_int_quantized_hf(src, dir, spec, t);
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  const std::string p = "model.layers.1.mlp.down_proj.";  // 64 x 128
  ASSERT_EQ(st.find(p + "weight_packed")->shape, (std::vector<int64_t>{64, 16}));
  ASSERT_EQ(st.find(p + "weight_packed")->dtype, DType::I32);
  ASSERT_EQ(st.find(p + "weight_scale")->shape, (std::vector<int64_t>{64, 4}));
  ASSERT_EQ(st.find(p + "weight_scale")->dtype, DType::F16);
  ASSERT_EQ(st.find(p + "weight_zero_point")->shape, (std::vector<int64_t>{8, 4}));
  ASSERT_EQ(st.find(p + "weight_shape")->dtype, DType::I64);
  EXPECT_EQ(st.find(p + "weight"), nullptr);
  int64_t shape[2];
  std::memcpy(shape, st.find(p + "weight_shape")->data, sizeof(shape));
  EXPECT_EQ(shape[0], 64);
  EXPECT_EQ(shape[1], 128);
  const QuantizedMatrix& m = t.given.at("blk.1.ffn_down.weight");
  const auto* qw = reinterpret_cast<const int32_t*>(st.find(p + "weight_packed")->data);
  const auto* qz = reinterpret_cast<const int32_t*>(st.find(p + "weight_zero_point")->data);
  const auto* sc = reinterpret_cast<const uint16_t*>(st.find(p + "weight_scale")->data);
  for (int64_t o = 0; o < 64; ++o)
    for (int64_t k = 0; k < 16; ++k) {  // row o, inputs 8k .. 8k+7 in nibbles 0..7
      uint32_t w = 0;
      for (int i = 0; i < 8; ++i) w |= uint32_t{m.codes[o * 128 + 8 * k + i]} << (4 * i);
      ASSERT_EQ(static_cast<uint32_t>(qw[o * 16 + k]), w);
    }
  for (int64_t k = 0; k < 8; ++k)
    for (int64_t g = 0; g < 4; ++g) {  // rows 8k .. 8k+7 of group g in nibbles 0..7
      uint32_t w = 0;
      for (int i = 0; i < 8; ++i) w |= static_cast<uint32_t>(m.zeros[(8 * k + i) * 4 + g]) << (4 * i);
      ASSERT_EQ(static_cast<uint32_t>(qz[k * 4 + g]), w);
    }
  for (int64_t i = 0; i < 64 * 4; ++i) ASSERT_EQ(sc[i], f32_to_fp16(m.scales[i]));  // [out, n_groups]
  const json c = read_json(dir + "/config.json");
  EXPECT_EQ(c["quantization_config"], json::parse(R"({
    "quant_method": "compressed-tensors", "format": "pack-quantized", "quantization_status": "compressed",
    "config_groups": {"group_0": {"targets": ["Linear"],
      "weights": {"num_bits": 4, "type": "int", "symmetric": false, "strategy": "group", "group_size": 32,
                  "actorder": "weight", "block_structure": null, "dynamic": false, "observer": "minmax"},
      "input_activations": null, "output_activations": null}},
    "ignore": ["lm_head"], "kv_cache_scheme": null, "global_compression_ratio": null})"));
  EXPECT_EQ(c["torch_dtype"], "float16");
}

// A symmetric file has no zero points: a zero other than 2^(bits-1) is refused.
TEST(ExportIntHf, CompressedTensorsSymmetricNeedsTheMiddleZero) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  IntExportSpec spec;
  spec.format = IntExportFormat::kCompressedTensors;
  spec.symmetric = true;
  spec.group_size = 32;
  IntGridSpec grid;  // asymmetric: zeros anywhere
  RtnTensors t(src, grid, 32);
  const std::string dir = temp("ct_sym_bad");
  try {
    save_int_quantized_hf(src, dir, spec, t);
    FAIL() << "an asymmetric grid was written as symmetric";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a symmetric compressed-tensors file stores none, which means 8"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir));
}

TEST(ExportIntHf, BlocksAreAskedInOrderOnce) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  IntExportSpec spec;
  spec.group_size = 32;
  RtnTensors t(src, IntGridSpec{}, 32);
  save_int_quantized_hf(src, temp("order"), spec, t);
  int64_t last = -1;
  std::map<std::string, int> count;
  for (const std::string& name : t.asked) {
    const int64_t b = std::stoll(name.substr(4));
    EXPECT_GE(b, last) << name;
    last = b;
    ++count[name];
  }
  EXPECT_EQ(t.given.size(), 14u);
  EXPECT_EQ(count.size(), 18u);  // 7 linears and 2 norms per block
  for (const auto& [name, n] : count) EXPECT_EQ(n, 1) << name;
}

TEST(ExportIntHf, FailureMidwayLeavesNothing) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  IntExportSpec spec;
  spec.group_size = 32;
  RtnTensors t(src, IntGridSpec{}, 32);
  t.fail_at = 9;  // in block 1
  const std::string dir = temp("fails");
  EXPECT_THROW(save_int_quantized_hf(src, dir, spec, t), Error);
  EXPECT_FALSE(fs::exists(dir));

  // A zero point of 0 has no GPTQ (zero - 1) form: refused, nothing written.
  RtnTensors z(src, IntGridSpec{}, 32);
  z.zero_point_zero = true;
  try {
    save_int_quantized_hf(src, dir, spec, z);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("zero point 0"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir));
  // AWQ stores zeros as they are: the same matrix exports and loads back.
  spec.format = IntExportFormat::kAwq;
  RtnTensors za(src, IntGridSpec{}, 32);
  za.zero_point_zero = true;
  save_int_quantized_hf(src, dir, spec, za);
  check_loaded(src, za, dir);
}

void expect_refused(const Checkpoint& src, const IntExportSpec& spec, const std::string& option,
                    const std::string& fragment) {
  RtnTensors t(src, IntGridSpec{}, 32);
  const std::string dir = temp("refused");
  try {
    validate_int_export(src, spec);
    ADD_FAILURE() << "expected an error about " << fragment;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(option + ": ", 0), 0u) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  }
  EXPECT_THROW(save_int_quantized_hf(src, dir, spec, t), Error);
  EXPECT_TRUE(t.asked.empty());
  EXPECT_FALSE(fs::exists(dir));
}

TEST(ExportIntHf, BadSpecsRefusedBeforeWriting) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  IntExportSpec s;
  s.group_size = 32;
  s.bits = 5;
  expect_refused(src, s, "export.bits", "2, 3, 4, 8");
  s.format = IntExportFormat::kAwq;
  s.bits = 3;
  expect_refused(src, s, "export.bits", "4-bit");
  s.bits = 4;
  s.symmetric = true;
  expect_refused(src, s, "export.format", "zero point");
  s.symmetric = false;
  s.group_size = -1;
  expect_refused(src, s, "export.group_size", "per channel");
  s.format = IntExportFormat::kGptq;
  s.group_size = 48;
  expect_refused(src, s, "export.group_size", "48 does not divide the 64");
  s.group_size = 0;
  expect_refused(src, s, "export.group_size", "0");
}

// stories260K: linears of 64 and 172 columns/rows. Only 8 bits packs 172
// (4 values per word) and only group sizes dividing both 64 and 172 (1, 2, 4,
// or per-channel -1) fit; AWQ needs out % 8 == 0 and ffn_gate/up have 172.
TEST(ExportIntHf, Stories260kLayoutLimits) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint src = testing::load_stories260k();
  IntExportSpec s;
  s.bits = 4;
  s.group_size = -1;
  expect_refused(src, s, "export.bits", "172 input columns");
  s.bits = 2;
  expect_refused(src, s, "export.bits", "multiple of 16");
  s.bits = 8;
  s.group_size = 32;
  expect_refused(src, s, "export.group_size", "32 does not divide the 172");
  s.format = IntExportFormat::kAwq;
  s.bits = 4;
  s.group_size = 4;
  expect_refused(src, s, "export.format", "172");

  // 8 bits, groups of 4: writes, loads back exactly, and runs.
  s = IntExportSpec{};
  s.bits = 8;
  s.group_size = 4;
  IntGridSpec grid;
  grid.bits = 8;
  grid.symmetric = true;
  s.symmetric = true;
  RtnTensors t(src, grid, 4);
  const std::string dir = temp("stories_gptq8");
  save_int_quantized_hf(src, dir, s, t);
  check_loaded(src, t, dir);
  EXPECT_LE(max_logit_difference(src, t, dir), 1e-4);
}

// Rewrites dir's model.safetensors through `edit` (name -> keep?) to break it.

TEST(ExportIntHf, BrokenExportsNameFileAndTensor) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  IntExportSpec spec;
  spec.group_size = 32;
  RtnTensors t(src, IntGridSpec{}, 32);
  const std::string good = temp("good");
  save_int_quantized_hf(src, good, spec, t);
  const std::string bad = temp("bad");
  const std::string k = "model.layers.1.self_attn.k_proj.";

  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>&) { return ti.name != k + "qzeros"; });
  expect_load_error(bad, "'" + k + "qweight' has no '" + k + "qzeros'");

  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>& b) {
    if (ti.name == k + "g_idx") {
      int32_t big = 7;
      std::memcpy(b.data() + 4 * 10, &big, 4);
    }
    return true;
  });
  expect_load_error(bad, "g_idx[10] = 7 is outside the 2 groups");

  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>& b) {
    if (ti.name == k + "scales") {
      ti.shape = {1, 64};  // 2 x 32 halves read as 1 x 64
    }
    return true;
  });
  expect_load_error(bad, k + "scales");

  // Unsupported settings in config.json.
  for (const auto& [key, value, fragment] :
       std::vector<std::tuple<std::string, json, std::string>>{{"bits", 5, "bits' = 5"},
                                                               {"quant_method", "marlin", "'marlin'"},
                                                               {"checkpoint_format", "exl2", "'exl2'"}}) {
    rewrite(good, bad, [](TensorInfo&, std::vector<uint8_t>&) { return true; });
    json c = read_json(good + "/config.json");
    c["quantization_config"][key] = value;
    std::ofstream(bad + "/config.json") << c.dump(2);
    expect_load_error(bad, fragment);
  }
  // No quantization config anywhere.
  json c = read_json(good + "/config.json");
  c.erase("quantization_config");
  std::ofstream(bad + "/config.json") << c.dump(2);
  expect_load_error(bad, "no 'quantization_config'");
  // AutoGPTQ's side file alone is enough.
  fs::copy(good + "/quantize_config.json", bad + "/quantize_config.json");
  Checkpoint back = load_checkpoint(bad);
  EXPECT_EQ(decoded(back.tensor("blk.1.attn_k.weight")), expected_weights(t.given.at("blk.1.attn_k.weight")));
}

}  // namespace
}  // namespace lmpack

namespace lmpack {
namespace {

// A broken compressed-tensors folder names the file and the tensor or key.
TEST(ExportIntHf, BrokenCompressedTensorsExportsNameFileTensorAndKey) {
  const Checkpoint src = load_checkpoint(random_model_dir(false));
  IntExportSpec spec;
  spec.format = IntExportFormat::kCompressedTensors;
  spec.group_size = 32;
  RtnTensors t(src, IntGridSpec{}, 32);
  const std::string good = temp("ct_good");
  save_int_quantized_hf(src, good, spec, t);
  const std::string bad = temp("ct_bad");
  const std::string k = "model.layers.1.self_attn.k_proj.";

  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>&) { return ti.name != k + "weight_shape"; });
  expect_load_error(bad, "'" + k + "weight_packed' has no '" + k + "weight_shape'");
  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>&) { return ti.name != k + "weight_zero_point"; });
  expect_load_error(bad, "is asymmetric");
  rewrite(good, bad, [&](TensorInfo& ti, std::vector<uint8_t>& b) {
    if (ti.name == k + "weight_shape") {
      const int64_t wrong[2] = {32, 72};  // packed [32, 8] holds 64 inputs
      std::memcpy(b.data(), wrong, sizeof(wrong));
    }
    return true;
  });
  expect_load_error(bad, k + "weight_packed': shape [32, 8]; expected [32, 9]");

  // The configuration: each key lmpack does not read is named.
  const json config = read_json(good + "/config.json");
  auto with = [&](const std::function<void(json&)>& edit) {
    rewrite(good, bad, [](TensorInfo&, std::vector<uint8_t>&) { return true; });
    json c = config;
    edit(c["quantization_config"]);
    std::ofstream(bad + "/config.json") << c.dump(2);
  };
  with([](json& q) { q["format"] = "naive-quantized"; });
  expect_load_error(bad, "key 'quantization_config.format' 'naive-quantized' is not supported (pack-quantized, marlin-24)");
  with([](json& q) { q["format"] = "marlin-24"; });  // asymmetric
  expect_load_error(bad, "marlin-24 with an asymmetric grid: the layout stores no zero points");
  with([](json& q) { q["sparsity_config"] = {{"format", "sparse-24-bitmask"}, {"sparsity_structure", "2:4"}}; });
  expect_load_error(bad, "key 'quantization_config.sparsity_config.format' 'sparse-24-bitmask' is not supported (dense)");
  with([](json& q) { q["config_groups"]["group_0"]["weights"]["num_bits"] = 3; });
  expect_load_error(bad, "key 'quantization_config.config_groups.group_0.weights.num_bits' must be 4 or 8, got 3");
  with([](json& q) { q["config_groups"]["group_0"]["input_activations"] = {{"num_bits", 8}}; });
  expect_load_error(bad, "activation quantization is not supported");
  with([](json& q) {
    q["config_groups"]["group_1"] = q["config_groups"]["group_0"];
    q["config_groups"]["group_1"]["weights"]["group_size"] = 64;
  });
  expect_load_error(bad, "differ from another group's");
}

}  // namespace
}  // namespace lmpack
