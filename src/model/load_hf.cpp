#include "model/load_hf.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <sstream>

#include "core/error.h"
#include "core/printable.h"
#include "core/text_file.h"
#include "formats/decode.h"
#include "io/json_text.h"
#include "io/safetensors.h"
#include "model/fused_projections.h"
#include "model/hf_config.h"
#include "model/hf_names.h"
#include "model/load_hf_compressed.h"
#include "model/load_hf_int.h"
#include "model/loaders.h"
#include "model/rope_layout.h"
#include "model/tensor_names.h"
#include "tokenizer/vocab_readers.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";
constexpr uint64_t kMaxIndexBytes = uint64_t{64} << 20;  // real ones are well under 1 MB


// Reads the shards a sharded index names, each mapped once.
std::vector<HfTensor> read_sharded(const std::string& dir, Checkpoint& ckpt) {
  const std::string index_path = dir + "/" + kIndexFile;
  nlohmann::json index = parse_json_text(read_text_file(index_path, kMaxIndexBytes, kIndexFile), index_path,
                                         JsonLimits{64, size_t{1} << 22});
  if (!index.is_object()) throw Error(index_path, cat("expected a JSON object, got ", index.type_name()));
  auto wm = index.find("weight_map");
  if (wm == index.end()) throw Error(index_path, "missing key 'weight_map'");
  if (!wm->is_object()) throw Error(index_path, cat("key 'weight_map' must be an object, got ", wm->type_name()));

  std::map<std::string, std::vector<std::string>> by_shard;  // shard file -> tensor names
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it->is_string())
      throw Error(index_path, cat("weight_map['", printable(it.key()), "'] must be a file name, got ", it->type_name()));
    std::string shard = it->get<std::string>();
    if (shard.empty() || shard == "." || shard == ".." || shard.find('/') != std::string::npos ||
        shard.find('\\') != std::string::npos)
      throw Error(index_path, cat("weight_map['", printable(it.key()), "'] = '", printable(shard), "' is not a plain file name"));
    by_shard[shard].push_back(it.key());
  }

  std::vector<HfTensor> out;
  for (const auto& [shard, names] : by_shard) {
    const std::string shard_path = dir + "/" + shard;
    if (!fs::exists(shard_path))
      throw Error(index_path, cat("shard '", printable(shard), "' (holding '", printable(names.front()), "' and ", names.size() - 1,
                                  " more) does not exist in ", dir));
    SafetensorsFile st = read_safetensors(shard_path);
    ckpt.keep_alive.push_back(st.file);
    std::unordered_map<std::string_view, const TensorInfo*> by_name;  // names.size() finds, not a scan each
    for (const TensorInfo& t : st.tensors) by_name.emplace(t.name, &t);
    for (const std::string& name : names) {
      auto t = by_name.find(name);
      if (t == by_name.end())
        throw Error(shard_path, cat("tensor '", printable(name), "' named by ", kIndexFile, " is not in this shard"));
      out.push_back({*t->second, shard_path});
    }
  }
  return out;
}

std::vector<HfTensor> read_tensors(const std::string& dir, Checkpoint& ckpt) {
  const std::string single = dir + "/" + kSingleFile;
  if (fs::exists(single)) {
    SafetensorsFile st = read_safetensors(single);
    ckpt.keep_alive.push_back(st.file);
    std::vector<HfTensor> out;
    for (const TensorInfo& t : st.tensors) out.push_back({t, single});
    return out;
  }
  if (fs::exists(dir + "/" + kIndexFile)) return read_sharded(dir, ckpt);
  throw Error(dir, cat("no ", kSingleFile, " or ", kIndexFile, " in this folder"));
}

// Adds the tensors under their canonical names (the tied classifier dropped,
// q/k rows permuted to adjacent pairs); returns the HF names left out.
std::vector<std::string> add_canonical_tensors(const std::vector<HfTensor>& hf, Checkpoint& ckpt) {
  std::set<std::string> seen;  // canonical names
  std::vector<std::string> skipped;
  for (const HfTensor& h : hf) {
    std::optional<std::string> canonical = hf_to_canonical_name(h.info.name, ckpt.config.architecture);
    if (!canonical) {
      skipped.push_back(h.info.name);
      continue;
    }
    const DType d = h.info.dtype;
    if (d != DType::F32 && d != DType::F16 && d != DType::BF16)
      throw Error(h.file, cat("tensor '", printable(h.info.name), "' has dtype ", dtype_name(d), "; expected F32, F16 or BF16"));
    if (!seen.insert(*canonical).second)
      throw Error(h.file, cat("tensor '", printable(h.info.name), "' appears twice"));
    TensorInfo t = h.info;
    t.name = *canonical;
    ckpt.tensors.emplace(*canonical, std::move(t));
  }

  // Gemma stores RMSNorm weights as w for a scale of 1 + w; lmpack holds the scale.
  if (const float offset = hf_norm_offset(ckpt.config.architecture); offset != 0.0f) {
    for (auto& [name, t] : ckpt.tensors) {
      if (!is_norm_weight(name) || t.shape.size() != 1) continue;
      std::vector<float> v(static_cast<size_t>(t.n_elements()));
      decode_to_f32(v.data(), t.data, t.dtype, t.n_elements());
      for (float& x : v) x += offset;
      ckpt.set_f32(name, t.shape, std::move(v));
    }
  }

  // Tied classifier: no separate output.weight (an lm_head saved beside a tied
  // embedding is the same tensor and is dropped).
  if (ckpt.config.tied_embeddings || ckpt.tensors.count("output.weight") == 0) {
    ckpt.config.tied_embeddings = true;
    ckpt.tensors.erase("output.weight");
  }
  split_fused_projections(ckpt);  // Phi-3's qkv_proj and gate_up_proj
  rope_rows_halves_to_adjacent(ckpt);

  return skipped;
}

}  // namespace

Checkpoint load_hf_checkpoint(const std::string& dir, std::vector<std::string>* skipped_names) {
  Checkpoint ckpt;
  ckpt.path = dir;
  ckpt.format = "hf";
  if (!fs::is_directory(dir)) throw Error(dir, "not a directory (expected a Hugging Face model folder)");
  const std::string config_path = dir + "/config.json";
  const std::string config_text = read_text_file(config_path, uint64_t{16} << 20, "config.json");
  ckpt.config = parse_hf_config(config_text, config_path);
  ckpt.recipe = hf_config_recipe(config_text);

  std::vector<HfTensor> hf = read_tensors(dir, ckpt);
  dequantize_hf_int_linears(dir, hf, ckpt);  // GPTQ/AWQ linears -> F32 <prefix>.weight
  // compressed-tensors linears likewise (settings in config.json only)
  dequantize_compressed_tensors_linears(HfQuantConfigText{config_text, config_path, HfQuantSource::kConfigJson}, hf,
                                        ckpt);
  std::vector<std::string> skipped = add_canonical_tensors(hf, ckpt);

  const std::string tokenizer = dir + "/tokenizer.json";
  if (fs::exists(tokenizer)) ckpt.vocab = load_tokenizer_json_vocab(tokenizer);

  std::sort(skipped.begin(), skipped.end());
  if (skipped_names != nullptr) *skipped_names = std::move(skipped);
  return ckpt;
}

Checkpoint load_hf_checkpoint(const std::string& dir) { return load_hf_checkpoint(dir, nullptr); }

Checkpoint checkpoint_from_hf(std::string_view config_json, std::vector<HfTensor> tensors, const std::string& where) {
  Checkpoint ckpt;
  ckpt.path = where;
  ckpt.format = "hf";
  const std::string config_where = where + "/config.json";
  ckpt.config = parse_hf_config(std::string(config_json), config_where);
  dequantize_hf_int_linears(HfQuantConfigText{std::string(config_json), config_where, HfQuantSource::kConfigJson},
                            tensors, ckpt);
  dequantize_compressed_tensors_linears(
      HfQuantConfigText{std::string(config_json), config_where, HfQuantSource::kConfigJson}, tensors, ckpt);
  add_canonical_tensors(tensors, ckpt);
  return ckpt;
}

}  // namespace lmpack
