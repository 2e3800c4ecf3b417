// fuzz_seeds <out_dir>: writes the seed corpus of every harness into
// <out_dir>/<harness>/ (exit status 3 when ../shared is absent), from the real files in ../shared (cut to what the
// harness's max_len allows: headers, the first few hundred tokens of a
// vocabulary) and from lmpack's own writers (GGUF, safetensors, imatrix,
// config.json, random tiny models). scripts/fuzz.sh runs it before fuzzing;
// nothing here is committed, since it is all made from files in the tree.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz_shared.h"
#include "gguf_test_writer.h"
#include "formats/int_packing.h"
#include "formats/marlin24_packing.h"
#include "io/gguf_writer.h"
#include "io/imatrix.h"
#include "io/llama2c.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/hf_config.h"
#include "model/random_model.h"
#include "model/save_gguf.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack::fuzz {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Bytes = std::string;

fs::path g_out;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void put(const std::string& harness, const std::string& name, const Bytes& bytes) {
  fs::create_directories(g_out / harness);
  std::ofstream(g_out / harness / name, std::ios::binary) << bytes;
}

fs::path scratch(const std::string& name) {
  fs::path p = g_out / "_scratch" / name;
  fs::create_directories(p.parent_path());
  return p;
}

// --- GGUF: real vocabularies cut to their first n tokens, real headers, tiny models.

// Copies the metadata of `g` into `w`, arrays of n_vocab entries cut to n
// (merges: those whose pieces and result survive the cut).
void add_cut_metadata(GgufWriter& w, const GgufFile& g, size_t n) {
  const GgufValue* tokens = g.find("tokenizer.ggml.tokens");
  const size_t n_vocab = tokens != nullptr ? tokens->array.size() : 0;
  std::set<std::string> kept;
  for (size_t k = 0; k < n && k < n_vocab; ++k) kept.insert(std::string(tokens->array.string_at(k)));
  for (const auto& [key, v] : g.metadata) {
    if (key == "general.alignment") continue;
    if (v.type == GgufType::kArray && v.array.size() == n_vocab && n_vocab > n) {
      GgufValue cut = v;
      cut.array = GgufArray(v.array.type());
      for (size_t k = 0; k < n; ++k) cut.array.push_back(v.array[k]);
      w.add(key, cut);
    } else if (key == "tokenizer.ggml.merges") {
      std::vector<std::string> merges;
      for (size_t k = 0; k < v.array.size(); ++k) {
        const std::string m(v.array.string_at(k));
        const size_t space = m.find(' ', 1);
        if (space == std::string::npos) continue;
        if (kept.count(m.substr(0, space)) && kept.count(m.substr(space + 1)) &&
            kept.count(m.substr(0, space) + m.substr(space + 1)))
          merges.push_back(m);
      }
      w.add_string_array(key, merges);
    } else if (v.type == GgufType::kUint32 && key.rfind("tokenizer.ggml.", 0) == 0 && key.size() > 9 &&
               key.compare(key.size() - 9, 9, "_token_id") == 0 && v.u >= n) {
      continue;  // a special token cut away
    } else {
      w.add(key, v);
    }
  }
}

void gguf_seeds() {
  for (const char* name : {"llama-spm", "gpt-2", "deepseek-coder", "falcon", "phi-3", "bert-bge"}) {
    const std::string path = shared_path(std::string("data/llamacpp-vocab-tests/ggml-vocab-") + name + ".gguf");
    const GgufFile g = read_gguf(path);
    const fs::path out = g_out / "gguf" / (std::string("vocab-") + name + "-cut.gguf");
    fs::create_directories(out.parent_path());
    GgufWriter w(out.string());
    add_cut_metadata(w, g, 300);
    w.finish();
  }
  // stories260K.gguf's header alone (its tensors then lie past the end).
  const std::string stories = shared_path("models/stories260K/stories260K.gguf");
  const GgufFile g = read_gguf(stories);
  put("gguf", "stories260K-header.gguf", file_bytes(stories).substr(0, g.data_offset));

  // Every value type, nested arrays, v2, another alignment, a quantized tensor.
  for (uint32_t version : {2u, 3u}) {
    testing::TestGgufWriter t(version, version == 2 ? 64 : 32);
    t.kv("t.u8", testing::kGU8, testing::gguf_pod<uint8_t>(7));
    t.kv("t.i16", testing::kGI16, testing::gguf_pod<int16_t>(-3));
    t.kv("t.u64", testing::kGU64, testing::gguf_pod<uint64_t>(1) );
    t.kv("t.f64", testing::kGF64, testing::gguf_pod<double>(0.5));
    t.kv_bool("t.bool", true);
    t.kv_str("general.architecture", "llama");
    t.kv_f32s("t.floats", {0.5f, -1.0f});
    t.kv_strings("t.strings", {"a", "", "ccc"});
    t.kv("t.nested", testing::kGArr,
         testing::gguf_array(testing::kGArr, 2,
                             testing::gguf_array(testing::kGI32, 1, testing::gguf_pod<int32_t>(1)) +
                                 testing::gguf_array(testing::kGStr, 1, testing::gguf_str("x"))));
    if (version == 2) t.kv_u32("general.alignment", 64);
    t.tensor("f32", {4, 2}, 0, Bytes(32, '\x01'));
    t.tensor("q8_0", {32}, 8, Bytes(34, '\x02'));
    t.tensor("f16", {3}, 1, Bytes(6, '\x03'));
    put("gguf", "every-type-v" + std::to_string(version) + ".gguf", t.bytes());
  }
}

// A byte-level BPE vocabulary cut to its first n tokens and the merges among them.
void cut_bpe(Vocab& v, size_t n) {
  v.tokens.resize(n);
  v.token_types.resize(n);
  const std::set<std::string> kept(v.tokens.begin(), v.tokens.end());
  std::vector<std::string> merges;
  for (const std::string& m : v.merges) {
    const size_t s = m.find(' ', 1);
    if (s != std::string::npos && kept.count(m.substr(0, s)) && kept.count(m.substr(s + 1)) &&
        kept.count(m.substr(0, s) + m.substr(s + 1)))
      merges.push_back(m);
  }
  v.merges = merges;
  v.bos_id = v.eos_id = v.unk_id = v.pad_id = -1;
}

// A tiny random model written as a HF folder; returns the folder.
fs::path random_model(const std::string& name, const std::string& architecture, int64_t vocab) {
  RandomModelSpec spec;
  ModelConfig& c = spec.config;
  c.architecture = architecture;
  c.dim = 16;
  c.hidden_dim = 32;
  c.n_layers = 1;
  c.n_heads = 2;
  c.n_kv_heads = 1;
  c.head_dim = 8;
  c.vocab_size = vocab;
  c.context_length = 64;
  c.tied_embeddings = architecture != "mistral";
  c.attn_qkv_bias = architecture == "qwen2";
  spec.dtype = DType::F16;
  const fs::path dir = scratch(name);
  write_random_model(spec, dir.string());
  return dir;
}

void gguf_model_seeds() {
  Vocab spm = load_llama2c_vocab(shared_path("models/stories260K/tok512.bin"));
  spm.tokens.resize(300);
  spm.scores.resize(300);
  spm.token_types.resize(300);
  Vocab bpe = vocab_from_gguf(read_gguf(shared_path("data/llamacpp-vocab-tests/ggml-vocab-gpt-2.gguf")));
  cut_bpe(bpe, 300);
  for (const auto& [arch, vocab] : {std::pair{"llama", &spm}, std::pair{"qwen2", &bpe}, std::pair{"mistral", &spm}}) {
    Checkpoint c = load_checkpoint(random_model(std::string("model-") + arch, arch, 300).string());
    c.vocab = *vocab;
    const fs::path out = g_out / "gguf_model" / (std::string("tiny-") + arch + ".gguf");
    fs::create_directories(out.parent_path());
    save_gguf(c, out.string(), DType::F16);
  }
  // The real headers too: the checkpoint reader reads metadata first.
  for (const auto& entry : fs::directory_iterator(g_out / "gguf")) fs::copy_file(entry.path(), g_out / "gguf_model" / entry.path().filename());
}

// --- safetensors, config.json, GPTQ/AWQ.

Bytes safetensors_of(const std::vector<SafetensorsEntry>& entries, const std::vector<Bytes>& data,
                     const std::map<std::string, std::string>& metadata = {}) {
  const fs::path p = scratch("st.safetensors");
  write_safetensors(p.string(), entries,
                    [&](size_t i, SafetensorsSink& sink) { sink.write(data[i].data(), data[i].size()); }, metadata);
  return file_bytes(p.string());
}

void safetensors_seeds() {
  const fs::path hf = random_model("hf-llama", "llama", 16);
  put("safetensors", "tiny-llama.safetensors", file_bytes((hf / "model.safetensors").string()));
  const Bytes stories = file_bytes(shared_path("models/stories260K-hf/model.safetensors"));
  uint64_t n = 0;
  std::memcpy(&n, stories.data(), 8);
  put("safetensors", "stories260K-hf-header.safetensors", stories.substr(0, 8 + n));
  put("safetensors", "every-dtype.safetensors",
      safetensors_of({{"a", DType::F32, {2, 2}}, {"b", DType::F16, {3}}, {"c", DType::BF16, {1, 1, 2}},
                      {"d", DType::I8, {5}}, {"e", DType::I32, {2}}, {"f", DType::I64, {1}}, {"g", DType::F64, {1}},
                      {"h", DType::I16, {0}}},
                     {Bytes(16, 'a'), Bytes(6, 'b'), Bytes(4, 'c'), Bytes(5, 'd'), Bytes(8, 'e'), Bytes(8, 'f'),
                      Bytes(8, 'g'), Bytes()},
                     {{"format", "pt"}}));

  for (const char* arch : {"llama", "mistral", "qwen2"}) {
    const fs::path dir = random_model(std::string("cfg-") + arch, arch, 16);
    const Bytes config = file_bytes((dir / "config.json").string());
    put("hf_config", std::string(arch) + ".json", config);
    put("hf_model", std::string(arch), config + Bytes(1, '\0') + file_bytes((dir / "model.safetensors").string()));
  }
  put("hf_config", "stories260K-hf.json", file_bytes(shared_path("models/stories260K-hf/config.json")));
  ModelConfig llama3 = parse_hf_config(file_bytes(shared_path("models/stories260K-hf/config.json")), "config.json");
  llama3.rope_scaling.type = RopeScaling::Type::kLlama3;
  llama3.rope_scaling.factor = 8.0f;
  llama3.head_dim = 16;  // apart from dim / n_heads
  put("hf_config", "llama3-rope.json", hf_config_to_json(llama3, {DType::BF16, 1, 2, ""}));
}

// A whole compressed-tensors folder in hf_model's form: a random Llama of
// 64-wide linears (marlin-24 needs outputs in 64s, inputs in 32s) whose
// block linears are stored as `format` ("pack-quantized" or "marlin-24"),
// symmetric 4-bit per channel, every code the zero but the first of each row.
Bytes compressed_tensors_folder(const std::string& format) {
  RandomModelSpec spec;
  ModelConfig& c = spec.config;
  c.architecture = "llama";
  c.dim = c.hidden_dim = 64;
  c.n_layers = 1;
  c.n_heads = c.n_kv_heads = 2;
  c.head_dim = 32;
  c.vocab_size = 16;
  c.context_length = 64;
  spec.dtype = DType::F16;
  const fs::path dir = scratch("ct-" + format);
  write_random_model(spec, dir.string());
  const Bytes st_bytes = file_bytes((dir / "model.safetensors").string());
  const SafetensorsFile st = parse_safetensors(reinterpret_cast<const uint8_t*>(st_bytes.data()), st_bytes.size(), "seed");
  std::vector<SafetensorsEntry> entries;
  std::vector<Bytes> data;
  const int64_t n = 64;
  std::vector<uint8_t> codes(n * n, 8);
  for (int64_t r = 0; r < n; ++r) codes[r * n] = static_cast<uint8_t>(r % 16);
  const Bytes scales(2 * n, '\x20');  // fp16 0x2020
  for (const TensorInfo& t : st.tensors) {
    const std::string& name = t.name;
    const bool linear = t.shape.size() == 2 && name.find(".layers.") != std::string::npos;
    if (!linear) {
      entries.push_back({name, t.dtype, t.shape});
      data.emplace_back(reinterpret_cast<const char*>(t.data), t.nbytes);
      continue;
    }
    const std::string p = name.substr(0, name.size() - 7);  // without ".weight"
    if (format == "marlin-24") {
      std::vector<int32_t> words(marlin24_packed_rows(n) * marlin24_packed_cols(n, 4));
      std::vector<int16_t> meta(marlin24_meta_rows(n) * marlin24_meta_cols(n));
      pack_marlin24(words.data(), meta.data(), codes.data(), n, n, 4);
      entries.push_back({p + ".scale_packed", DType::F16, {1, n}});
      entries.push_back({p + ".weight_packed", DType::I32, {marlin24_packed_rows(n), marlin24_packed_cols(n, 4)}});
      entries.push_back({p + ".meta", DType::I16, {marlin24_meta_rows(n), marlin24_meta_cols(n)}});
      data.push_back(scales);
      data.emplace_back(reinterpret_cast<const char*>(words.data()), words.size() * 4);
      data.emplace_back(reinterpret_cast<const char*>(meta.data()), meta.size() * 2);
    } else {
      std::vector<int32_t> words(n * ct_packed_words(n, 4));
      pack_ct_rows(words.data(), codes.data(), n, n, 4);
      const int64_t shape[2] = {n, n};
      entries.push_back({p + ".weight_packed", DType::I32, {n, ct_packed_words(n, 4)}});
      entries.push_back({p + ".weight_scale", DType::F16, {n, 1}});
      entries.push_back({p + ".weight_shape", DType::I64, {2}});
      data.emplace_back(reinterpret_cast<const char*>(words.data()), words.size() * 4);
      data.push_back(scales);
      data.emplace_back(reinterpret_cast<const char*>(shape), sizeof(shape));
    }
  }
  Json config = Json::parse(file_bytes((dir / "config.json").string()));
  config["quantization_config"] = {
      {"quant_method", "compressed-tensors"},
      {"format", format},
      {"config_groups",
       {{"group_0",
         {{"targets", {"Linear"}},
          {"weights", {{"num_bits", 4}, {"type", "int"}, {"symmetric", true}, {"strategy", "channel"}}}}}}},
      {"ignore", {"lm_head"}}};
  if (format == "marlin-24") config["quantization_config"]["sparsity_config"] = {{"format", "dense"}};
  return config.dump() + Bytes(1, '\0') + safetensors_of(entries, data);
}

void hf_quant_seeds() {
  // One 32-input, 8-output linear in each layout, 4-bit, one group.
  const std::string p = "model.layers.0.mlp.down_proj";
  const Bytes scales(16, '\x3c');  // F16 values 0x3c3c
  const Bytes gptq = safetensors_of({{p + ".qweight", DType::I32, {4, 8}}, {p + ".qzeros", DType::I32, {1, 1}},
                                     {p + ".scales", DType::F16, {1, 8}}, {p + ".g_idx", DType::I32, {32}}},
                                    {Bytes(128, '\x5a'), Bytes(4, '\x77'), scales, Bytes(128, '\0')});
  const Bytes awq = safetensors_of({{p + ".qweight", DType::I32, {32, 1}}, {p + ".qzeros", DType::I32, {1, 1}},
                                    {p + ".scales", DType::F16, {1, 8}}},
                                   {Bytes(128, '\x5a'), Bytes(4, '\x77'), scales});
  const std::string gptq_cfg = R"({"quantization_config":{"quant_method":"gptq","bits":4,"group_size":32,"desc_act":true,"checkpoint_format":"gptq"}})";
  const std::string awq_cfg = R"({"quantization_config":{"quant_method":"awq","bits":4,"group_size":32,"version":"gemm","zero_point":true}})";
  put("hf_quant", "gptq-config", Bytes(1, '\0') + gptq_cfg);
  put("hf_quant", "gptq-config-tensors", Bytes(1, '\0') + gptq_cfg + Bytes(1, '\0') + gptq);
  put("hf_quant", "awq-config-tensors", Bytes(1, '\0') + awq_cfg + Bytes(1, '\0') + awq);
  put("hf_quant", "autogptq-tensors", Bytes(1, '\1') + R"({"bits":4,"group_size":-1,"sym":true})" + Bytes(1, '\0') + gptq);
  // A folder whose only linear is GPTQ: names, config and packing together.
  put("hf_model", "gptq-linear", gptq_cfg + Bytes(1, '\0') + gptq);
  put("hf_model", "pack-quantized-folder", compressed_tensors_folder("pack-quantized"));
  put("hf_model", "marlin24-folder", compressed_tensors_folder("marlin-24"));
  put("hf_quant", "autoawq-tensors", Bytes(1, '\2') + R"({"w_bit":4,"q_group_size":32,"zero_point":true,"version":"GEMM"})" + Bytes(1, '\0') + awq);
}

// --- llama2.c, tokenizer.bin, tokenizer.json, imatrix, text.

void llama2c_seeds() {
  for (int32_t vocab : {16, -16}) {
    const int32_t header[7] = {8, 16, 1, 2, 1, vocab, 4};
    Llama2cHeader h;
    h.dim = 8, h.hidden_dim = 16, h.n_layers = 1, h.n_heads = 2, h.n_kv_heads = 1, h.vocab_size = 16, h.seq_len = 4;
    h.shared_classifier = vocab > 0;
    Bytes b(reinterpret_cast<const char*>(header), sizeof header);
    b.resize(llama2c_file_bytes(h), '\0');
    for (size_t i = sizeof header; i + 4 <= b.size(); i += 4) {
      const float f = 0.01f * static_cast<float>(i % 97);
      std::memcpy(&b[i], &f, 4);
    }
    put("llama2c", vocab > 0 ? "tiny-shared.bin" : "tiny-separate-classifier.bin", b);
  }
  const Bytes tok = file_bytes(shared_path("models/stories260K/tok512.bin"));
  put("llama2c_vocab", "tok512.bin", tok);
  put("llama2c_vocab", "tok512-cut.bin", tok.substr(0, 1200));
}

// tokenizer.json of a vocabulary: byte-level (merges as given) or
// SentencePiece-style (merges: every split of a token into two tokens).
Json tokenizer_json(const Vocab& v, bool byte_level, bool split_regex) {
  Json vocab = Json::object(), added = Json::array(), merges = Json::array();
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const TokenType type = v.token_types[id];
    if (type == TokenType::kControl || type == TokenType::kUserDefined)
      added.push_back({{"id", id}, {"content", v.tokens[id]}, {"special", type == TokenType::kControl}});
    else
      vocab[v.tokens[id]] = id;
  }
  if (byte_level) {
    for (const std::string& m : v.merges) merges.push_back(m);
  } else {
    for (const std::string& t : v.tokens)
      for (size_t cut = 1; cut < t.size(); ++cut)
        if (vocab.contains(t.substr(0, cut)) && vocab.contains(t.substr(cut))) merges.push_back(t.substr(0, cut) + " " + t.substr(cut));
  }
  Json j;
  j["version"] = "1.0";
  j["added_tokens"] = added;
  j["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"byte_fallback", !byte_level}};
  if (byte_level) {
    Json bl = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", !split_regex}};
    if (split_regex)
      j["pre_tokenizer"] = {{"type", "Sequence"},
                            {"pretokenizers",
                             {{{"type", "Split"},
                               {"pattern", {{"Regex", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"}}}},
                              bl}}};
    else
      j["pre_tokenizer"] = bl;
    j["post_processor"] = {{"type", "TemplateProcessing"}, {"single", {{{"SpecialToken", {{"id", v.tokens[0]}}}}, {{"Sequence", {{"id", "A"}}}}}}};
  } else {
    j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}}, {{"type", "Replace"}, {"content", "\xE2\x96\x81"}}}}};
    j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"}};
  }
  return j;
}

void tokenizer_json_seeds() {
  Vocab spm = load_llama2c_vocab(shared_path("models/stories260K/tok512.bin"));
  Vocab bpe = vocab_from_gguf(read_gguf(shared_path("data/llamacpp-vocab-tests/ggml-vocab-gpt-2.gguf")));
  cut_bpe(bpe, 400);
  bpe.token_types[399] = TokenType::kControl;
  put("tokenizer_json", "spm-tok512.json", tokenizer_json(spm, false, false).dump());
  put("tokenizer_json", "gpt2-400.json", tokenizer_json(bpe, true, false).dump());
  put("tokenizer_json", "gpt2-400-split.json", tokenizer_json(bpe, true, true).dump());
  put("tokenizer_json", "gpt2-400-with-config.json",
      tokenizer_json(bpe, true, false).dump() + Bytes(1, '\0') +
          Json({{"bos_token", bpe.tokens[399]}, {"eos_token", {{"content", bpe.tokens[399]}}}, {"add_bos_token", true}}).dump());
}

void imatrix_seeds() {
  ImportanceMatrix m;
  m.values["blk.0.attn_q.weight"] = {0.5f, 1.0f, 2.0f, 0.0f};
  m.values["output.weight"] = {3.0f, 4.0f};
  m.chunk_count = 10;
  m.chunk_size = 512;
  m.datasets = {"wiki.train.raw"};
  const fs::path p = scratch("imatrix.gguf");
  write_imatrix_gguf(m, p.string());
  put("imatrix", "small.gguf", file_bytes(p.string()));
  // Legacy .dat: n_entries, (len, name, ncall, nval, values)..., chunks, dataset.
  Bytes dat = testing::gguf_pod<int32_t>(2);
  for (const auto& [name, values] : m.values) {
    dat += testing::gguf_pod<int32_t>(static_cast<int32_t>(name.size())) + name + testing::gguf_pod<int32_t>(10) +
           testing::gguf_pod<int32_t>(static_cast<int32_t>(values.size()));
    for (float v : values) dat += testing::gguf_pod<float>(v * 10);
  }
  put("imatrix", "small-legacy-no-trailer.dat", dat);
  dat += testing::gguf_pod<int32_t>(10) + testing::gguf_pod<int32_t>(14) + "wiki.train.raw";
  put("imatrix", "small-legacy.dat", dat);
}

void text_seeds() {
  const std::string inp = file_bytes(shared_path("data/llamacpp-vocab-tests/ggml-vocab-llama-spm.gguf.inp"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t start = 0, hit; (hit = inp.find(sep, start)) != std::string::npos; start = hit + sep.size())
    texts.push_back(inp.substr(start, hit - start));
  texts.push_back(file_bytes(shared_path("data/tinystories-valid/tinystories_valid_first1000.txt")).substr(0, 600));
  for (size_t i = 0; i < texts.size(); ++i) {
    // The first byte picks the vocabulary (and for BPE the pre-tokenizer).
    put("tokenize_spm", "text-" + std::to_string(i), Bytes(1, static_cast<char>(i % 3)) + texts[i]);
    put("tokenize_bpe", "text-" + std::to_string(i), Bytes(1, static_cast<char>(i % 64)) + texts[i]);
  }
}

}  // namespace
}  // namespace lmpack::fuzz

int main(int argc, char** argv) {
  using namespace lmpack::fuzz;
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds <out_dir>\n";
    return 2;
  }
  g_out = argv[1];
  if (shared_dir().empty()) {
    std::cerr << "fuzz_seeds: ../shared is absent (set LMPACK_SHARED_DIR); no seeds written\n";
    return 3;
  }
  try {
    gguf_seeds();
    gguf_model_seeds();
    safetensors_seeds();
    hf_quant_seeds();
    llama2c_seeds();
    tokenizer_json_seeds();
    imatrix_seeds();
    text_seeds();
    std::filesystem::remove_all(g_out / "_scratch");
  } catch (const lmpack::Error& e) {
    std::cerr << "fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
