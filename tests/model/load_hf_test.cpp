// The HF loader against stories260K.bin: the DERIVED stories260K-hf folder
// holds the same weights with q/k rows permuted to rotate-half order, so after
// loading every tensor must equal the .bin's float arrays bit for bit.
#include "model/load_hf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"
#include "model/loaders.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string hf_dir() { return testing::shared_path("models/stories260K-hf"); }

// stories260K.bin's arrays under canonical names (layout in shared/DATA.md).
std::map<std::string, std::vector<float>> read_bin_tensors() {
  std::ifstream in(testing::shared_path("models/stories260K/stories260K.bin"), std::ios::binary);
  int32_t h[7];
  in.read(reinterpret_cast<char*>(h), sizeof(h));
  EXPECT_EQ(h[0], 64);
  const int64_t dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kv_heads = h[4], vocab = h[5];
  const int64_t kv_dim = dim / heads * kv_heads;
  std::map<std::string, std::vector<float>> out;
  auto read = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    in.read(reinterpret_cast<char*>(v.data()), n * 4);
    EXPECT_TRUE(in.good());
    return v;
  };
  auto per_layer = [&](const std::string& suffix, int64_t n) {
    for (int64_t l = 0; l < layers; ++l) out[cat("blk.", l, ".", suffix)] = read(n);
  };
  out["token_embd.weight"] = read(vocab * dim);
  per_layer("attn_norm.weight", dim);
  per_layer("attn_q.weight", dim * dim);
  per_layer("attn_k.weight", kv_dim * dim);
  per_layer("attn_v.weight", kv_dim * dim);
  per_layer("attn_output.weight", dim * dim);
  per_layer("ffn_norm.weight", dim);
  per_layer("ffn_gate.weight", hidden * dim);
  per_layer("ffn_down.weight", dim * hidden);
  per_layer("ffn_up.weight", hidden * dim);
  out["output_norm.weight"] = read(dim);
  return out;
}

void expect_equal_to_bin(const Checkpoint& ckpt) {
  const auto bin = read_bin_tensors();
  ASSERT_EQ(bin.size(), 47u);
  EXPECT_EQ(ckpt.tensors.size(), bin.size());
  for (const auto& [name, values] : bin) {
    auto it = ckpt.tensors.find(name);
    ASSERT_NE(it, ckpt.tensors.end()) << name;
    const TensorInfo& t = it->second;
    EXPECT_EQ(t.name, name);
    EXPECT_EQ(t.dtype, DType::F32);
    ASSERT_EQ(t.nbytes, values.size() * 4) << name;
    EXPECT_EQ(std::memcmp(t.data, values.data(), t.nbytes), 0) << name << " differs from stories260K.bin";
  }
}

TEST(LoadHf, EveryTensorEqualsTheBinBitForBit) {
  LMPACK_REQUIRE_SHARED();
  std::vector<std::string> skipped;
  Checkpoint ckpt = load_hf_checkpoint(hf_dir(), &skipped);
  EXPECT_EQ(ckpt.format, "hf");
  EXPECT_EQ(ckpt.path, hf_dir());
  EXPECT_TRUE(ckpt.config.tied_embeddings);
  EXPECT_EQ(ckpt.tensors.count("output.weight"), 0u);
  EXPECT_FALSE(ckpt.vocab.has_value());
  EXPECT_TRUE(skipped.empty());
  EXPECT_EQ(ckpt.tensors.at("blk.2.attn_k.weight").shape, (std::vector<int64_t>{32, 64}));
  expect_equal_to_bin(ckpt);
  // Through the format-detecting entry point, which also validates shapes.
  Checkpoint detected = load_checkpoint(hf_dir());
  EXPECT_EQ(detected.format, "hf");
  EXPECT_EQ(detected.tensors.size(), 47u);
}

TEST(LoadHf, RawHfRowsDifferFromTheBin) {
  // Guards the test above: without the un-permutation q/k would not match.
  LMPACK_REQUIRE_SHARED();
  SafetensorsFile st = read_safetensors(hf_dir() + "/model.safetensors");
  const auto bin = read_bin_tensors();
  for (const char* name : {"q_proj", "k_proj"}) {
    const TensorInfo* t = st.find(cat("model.layers.0.self_attn.", name, ".weight"));
    ASSERT_NE(t, nullptr);
    const auto& ref = bin.at(name == std::string("q_proj") ? "blk.0.attn_q.weight" : "blk.0.attn_k.weight");
    EXPECT_NE(std::memcmp(t->data, ref.data(), t->nbytes), 0) << name;
  }
  // v is not permuted.
  EXPECT_EQ(std::memcmp(st.find("model.layers.0.self_attn.v_proj.weight")->data, bin.at("blk.0.attn_v.weight").data(),
                        32 * 64 * 4),
            0);
}

// Copies stories260K-hf into `dir` as two shards plus an index. Extra tensors
// (an inv_freq buffer) go into the second shard.
void write_sharded_copy(const std::string& dir, bool with_lm_head) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  nlohmann::json config = nlohmann::json::parse(std::ifstream(hf_dir() + "/config.json"));
  if (with_lm_head) config["tie_word_embeddings"] = false;
  std::ofstream(dir + "/config.json") << config.dump(2);

  SafetensorsFile st = read_safetensors(hf_dir() + "/model.safetensors");
  std::vector<const TensorInfo*> first, second;
  for (size_t i = 0; i < st.tensors.size(); ++i) (i % 2 ? second : first).push_back(&st.tensors[i]);
  TensorInfo inv_freq;
  std::vector<float> inv(4, 0.5f);
  inv_freq.name = "model.layers.0.self_attn.rotary_emb.inv_freq";
  inv_freq.shape = {4};
  inv_freq.data = reinterpret_cast<const uint8_t*>(inv.data());
  inv_freq.nbytes = 16;
  second.push_back(&inv_freq);
  TensorInfo lm_head = *st.find("model.embed_tokens.weight");
  lm_head.name = "lm_head.weight";
  if (with_lm_head) second.push_back(&lm_head);

  nlohmann::json index;
  index["metadata"] = {{"total_size", 1040128}};
  auto write_shard = [&](const std::string& file, const std::vector<const TensorInfo*>& list) {
    std::vector<SafetensorsEntry> entries;
    for (const TensorInfo* t : list) {
      entries.push_back({t->name, t->dtype, t->shape});
      index["weight_map"][t->name] = file;
    }
    write_safetensors(dir + "/" + file, entries,
                      [&](size_t i, SafetensorsSink& sink) { sink.write(list[i]->data, list[i]->nbytes); });
  };
  write_shard("model-00001-of-00002.safetensors", first);
  write_shard("model-00002-of-00002.safetensors", second);
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump(2);
}

TEST(LoadHf, ShardedIndexLoadsIdentically) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = testing::temp_dir() + "/hf_sharded";
  write_sharded_copy(dir, /*with_lm_head=*/false);
  std::vector<std::string> skipped;
  Checkpoint ckpt = load_hf_checkpoint(dir, &skipped);
  EXPECT_EQ(skipped, std::vector<std::string>{"model.layers.0.self_attn.rotary_emb.inv_freq"});
  EXPECT_EQ(ckpt.keep_alive.size(), 2u + 10u);  // two shard mappings, q/k buffers for 5 layers
  expect_equal_to_bin(ckpt);
}

TEST(LoadHf, UntiedLmHeadBecomesOutput) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = testing::temp_dir() + "/hf_untied";
  write_sharded_copy(dir, /*with_lm_head=*/true);
  Checkpoint ckpt = load_hf_checkpoint(dir);
  EXPECT_FALSE(ckpt.config.tied_embeddings);
  const TensorInfo& out = ckpt.tensors.at("output.weight");
  const TensorInfo& embd = ckpt.tensors.at("token_embd.weight");
  EXPECT_EQ(out.shape, embd.shape);
  ASSERT_EQ(out.nbytes, embd.nbytes);
  EXPECT_EQ(std::memcmp(out.data, embd.data, out.nbytes), 0);
}

TEST(LoadHf, MissingShardIsNamed) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = testing::temp_dir() + "/hf_missing_shard";
  write_sharded_copy(dir, false);
  fs::remove(dir + "/model-00002-of-00002.safetensors");
  try {
    load_hf_checkpoint(dir);
    FAIL() << "a missing shard was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model-00002-of-00002.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  }
}

TEST(LoadHf, BrokenFoldersAreErrors) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = testing::temp_dir() + "/hf_broken";
  write_sharded_copy(dir, false);
  // A tensor the index names but its shard lacks.
  nlohmann::json index = nlohmann::json::parse(std::ifstream(dir + "/model.safetensors.index.json"));
  index["weight_map"]["model.layers.9.mlp.up_proj.weight"] = "model-00001-of-00002.safetensors";
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump();
  EXPECT_THROW(load_hf_checkpoint(dir), Error);
  // A shard name that escapes the folder.
  index["weight_map"]["model.layers.9.mlp.up_proj.weight"] = "../model.safetensors";
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump();
  EXPECT_THROW(load_hf_checkpoint(dir), Error);
  std::ofstream(dir + "/model.safetensors.index.json") << "{\"weight_map\": [";
  EXPECT_THROW(load_hf_checkpoint(dir), Error);
  fs::remove(dir + "/model.safetensors.index.json");
  try {
    load_hf_checkpoint(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no model.safetensors"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_hf_checkpoint(testing::temp_dir() + "/no_such_folder"), Error);
}

TEST(LoadHf, WrongQRowCountIsNamed) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = testing::temp_dir() + "/hf_bad_heads";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(hf_dir() + "/model.safetensors", dir + "/model.safetensors");
  nlohmann::json config = nlohmann::json::parse(std::ifstream(hf_dir() + "/config.json"));
  config["num_attention_heads"] = 4;  // head_dim 16: q has 64 rows = 4 x 16 fine, k has 32 rows != 4 x 16
  std::ofstream(dir + "/config.json") << config.dump();
  try {
    load_checkpoint(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.0.attn_k.weight has shape [32, 64], expected [64, 64]"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace lmpack
