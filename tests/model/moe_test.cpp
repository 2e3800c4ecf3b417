// Mixtures of experts: Mixtral (llama.cpp's llama with experts) and Qwen3-MoE
// (qwen3moe: q/k norms, experts of their own width). A random folder of each
// runs the same fast (experts over gathered rows) and reference (token by
// token); experts that are all copies of one FFN give exactly the dense
// model of that FFN (the weights of the chosen experts sum to 1); the router,
// the number of experts used and the renormalization each change the logits;
// lmpack's GGUF stacks the experts in 3-D tensors as llama.cpp names them and
// reads back bit for bit; the HF folder is written back as it was.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "core/error.h"
#include "io/gguf.h"
#include "model/checkpoint.h"
#include "model/hf_config.h"
#include "model/save_gguf.h"
#include "model/save_hf.h"
#include "model/tensor_names.h"
#include "arch_test_util.h"
#include "test_paths.h"

namespace lmpack {
namespace {

using testing::max_abs;
using testing::max_abs_diff;

ModelConfig moe_config(const std::string& arch) {
  ModelConfig c = testing::small_arch_config(arch, arch == "qwen3moe" ? 32 : 16);
  c.n_experts = 4;
  c.n_experts_used = 2;
  c.expert_hidden_dim = arch == "qwen3moe" ? 48 : c.hidden_dim;
  c.attn_qk_norm = arch == "qwen3moe";
  c.tied_embeddings = arch == "qwen3moe";
  return c;
}

const std::string& moe_folder(const std::string& arch) {
  static std::map<std::string, std::string> dirs;
  auto it = dirs.find(arch);
  if (it == dirs.end()) it = dirs.emplace(arch, testing::random_model_folder("random_" + arch, moe_config(arch), 12)).first;
  return it->second;
}

class Moe : public ::testing::TestWithParam<const char*> {};

TEST_P(Moe, RunsFastAsReferenceAndEachRoutingPartMatters) {
  const Checkpoint c = load_checkpoint(moe_folder(GetParam()));
  EXPECT_EQ(c.config.architecture, GetParam());
  EXPECT_EQ(c.config.n_experts, 4);
  EXPECT_EQ(c.config.n_experts_used, 2);
  EXPECT_NE(c.find(expert_tensor_name(1, "ffn_down_exps", 3)), nullptr);
  EXPECT_EQ(c.find("blk.0.ffn_gate.weight"), nullptr);
  const std::vector<float> fast = testing::logits_of(c), ref = testing::logits_of(c, true);
  EXPECT_GT(max_abs(ref), 2.0f);
  EXPECT_LT(max_abs_diff(fast, ref), 1e-4f * max_abs(ref));

  auto changed = [&](const std::function<void(Checkpoint&)>& edit) {
    Checkpoint other = c;
    edit(other);
    return max_abs_diff(testing::logits_of(other), fast);
  };
  const float tiny = 1e-3f * max_abs(ref);
  EXPECT_GT(changed([](Checkpoint& o) { o.config.n_experts_used = 1; }), tiny) << "experts per token";
  EXPECT_GT(changed([](Checkpoint& o) { o.config.norm_topk_prob = false; }), tiny) << "renormalization";
  EXPECT_GT(changed([&](Checkpoint& o) {
              std::vector<float> r = testing::f32_values(c.tensor("blk.1.ffn_gate_inp.weight"));
              for (size_t i = 0; i < 64; ++i) r[i] += 1.0f;  // expert 0 of block 1 wins more often
              o.set_f32("blk.1.ffn_gate_inp.weight", {4, 64}, std::move(r));
            }),
            tiny)
      << "router";
}

// With every expert a copy of one FFN, the weighted sum of any k of them is
// that FFN (the weights sum to 1): the dense model, whatever the router says.
TEST_P(Moe, IdenticalExpertsAreTheDenseFfn) {
  const Checkpoint c = load_checkpoint(moe_folder(GetParam()));
  Checkpoint same = c;
  Checkpoint dense = c;
  dense.config.n_experts = dense.config.n_experts_used = 0;
  dense.config.hidden_dim = c.config.expert_hidden_dim;
  for (int64_t l = 0; l < c.config.n_layers; ++l) {
    dense.tensors.erase(cat("blk.", l, ".ffn_gate_inp.weight"));
    for (const auto& [kind, dense_name] : {std::pair{"ffn_gate_exps", "ffn_gate"}, {"ffn_up_exps", "ffn_up"},
                                           {"ffn_down_exps", "ffn_down"}}) {
      const TensorInfo& first = c.tensor(expert_tensor_name(l, kind, 0));
      for (int64_t e = 0; e < c.config.n_experts; ++e) {
        dense.tensors.erase(expert_tensor_name(l, kind, e));
        same.set_f32(expert_tensor_name(l, kind, e), first.shape, testing::f32_values(first));
      }
      dense.set_f32(cat("blk.", l, ".", dense_name, ".weight"), first.shape, testing::f32_values(first));
    }
  }
  const std::vector<float> moe = testing::logits_of(same), plain = testing::logits_of(dense);
  EXPECT_LT(max_abs_diff(moe, plain), 1e-4f * max_abs(plain));
  EXPECT_LT(max_abs_diff(testing::logits_of(same, true), testing::logits_of(dense, true)), 1e-4f * max_abs(plain));
}

TEST_P(Moe, GgufStacksTheExpertsAndHfWritesTheFolderBack) {
  LMPACK_REQUIRE_SHARED();  // the GGUF needs a vocabulary: tok512
  const std::string arch = GetParam();
  const Checkpoint hf = testing::load_with_tok512(moe_folder(arch));
  const std::string path = testing::temp_dir() + "/random_" + arch + ".gguf";
  save_gguf(hf, path, DType::F32);
  const GgufFile g = read_gguf(path);
  const std::string ga = arch == "mixtral" ? "llama" : "qwen3moe";
  EXPECT_EQ(g.get_string("general.architecture"), ga);
  EXPECT_EQ(g.get_int(ga + ".expert_count"), 4);
  EXPECT_EQ(g.get_int(ga + ".expert_used_count"), 2);
  if (arch == "qwen3moe") EXPECT_EQ(g.get_int("qwen3moe.expert_feed_forward_length"), 48);
  else EXPECT_EQ(g.get_int("llama.feed_forward_length"), 96);
  // ffn_down_exps [4 experts, 64, width]: expert e's rows, as the HF expert stores them.
  const TensorInfo* down = nullptr;
  for (const TensorInfo& t : g.tensors)
    if (t.name == "blk.1.ffn_down_exps.weight") down = &t;
  ASSERT_NE(down, nullptr);
  const int64_t width = hf.config.expert_hidden_dim;
  EXPECT_EQ(down->shape, (std::vector<int64_t>{4, 64, width}));
  const std::vector<float> stacked = testing::f32_values(*down);
  const std::vector<float> third = testing::f32_values(hf.tensor(expert_tensor_name(1, "ffn_down_exps", 2)));
  EXPECT_EQ(std::vector<float>(stacked.begin() + 2 * 64 * width, stacked.begin() + 3 * 64 * width), third);

  const Checkpoint back = load_checkpoint(path);
  EXPECT_EQ(back.config.architecture, arch);
  EXPECT_EQ(back.config.n_experts, 4);
  EXPECT_EQ(back.config.expert_hidden_dim, width);
  EXPECT_EQ(max_abs_diff(testing::logits_of(back), testing::logits_of(hf)), 0.0f);

  const std::string out = testing::temp_dir() + "/random_" + arch + "_back";
  save_hf(back, out, DType::F32);
  testing::expect_same_safetensors(moe_folder(arch) + "/model.safetensors", out + "/model.safetensors");
  const ModelConfig again = read_hf_config(out + "/config.json");
  EXPECT_EQ(again.n_experts, 4);
  EXPECT_EQ(again.n_experts_used, 2);
  EXPECT_EQ(again.expert_hidden_dim, width);

  Checkpoint unnormalized = hf;  // llama.cpp always renormalizes: no GGUF form
  unnormalized.config.norm_topk_prob = false;
  EXPECT_THROW(save_gguf(unnormalized, testing::temp_dir() + "/random_" + arch + "_unnormalized.gguf", DType::F32),
               Error);
}

INSTANTIATE_TEST_SUITE_P(Architectures, Moe, ::testing::Values("mixtral", "qwen3moe"));

// Mixtral-8x7B's and Qwen3-30B-A3B's config.json (the keys lmpack reads, as published).
TEST(MoeConfig, ReadsThePublishedConfigs) {
  const ModelConfig m = parse_hf_config(R"({"architectures": ["MixtralForCausalLM"], "hidden_act": "silu",
    "hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mixtral",
    "num_attention_heads": 32, "num_experts_per_tok": 2, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "num_local_experts": 8, "output_router_logits": false, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0,
    "router_aux_loss_coef": 0.02, "sliding_window": null, "tie_word_embeddings": false, "vocab_size": 32000})",
                                        "mixtral.json");
  EXPECT_EQ(m.architecture, "mixtral");
  EXPECT_EQ(m.n_experts, 8);
  EXPECT_EQ(m.n_experts_used, 2);
  EXPECT_EQ(m.expert_hidden_dim, 14336);
  EXPECT_TRUE(m.norm_topk_prob);
  EXPECT_EQ(m.sliding_window, 0);
  EXPECT_FALSE(m.untrainable_reason().empty());

  const std::string qwen = R"({"architectures": ["Qwen3MoeForCausalLM"], "attention_bias": false,
    "decoder_sparse_step": 1, "head_dim": 128, "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 6144,
    "max_position_embeddings": 40960, "max_window_layers": 48, "mlp_only_layers": [], "model_type": "qwen3_moe",
    "moe_intermediate_size": 768, "norm_topk_prob": true, "num_attention_heads": 32, "num_experts": 128,
    "num_experts_per_tok": 8, "num_hidden_layers": 48, "num_key_value_heads": 4, "rms_norm_eps": 1e-06,
    "rope_scaling": null, "rope_theta": 1000000.0, "sliding_window": null, "tie_word_embeddings": false,
    "use_sliding_window": false, "vocab_size": 151936})";
  const ModelConfig q = parse_hf_config(qwen, "qwen.json");
  EXPECT_EQ(q.architecture, "qwen3moe");
  EXPECT_TRUE(q.attn_qk_norm);
  EXPECT_EQ(q.n_experts, 128);
  EXPECT_EQ(q.n_experts_used, 8);
  EXPECT_EQ(q.expert_hidden_dim, 768);
  EXPECT_EQ(q.hidden_dim, 6144);

  std::string dense_layers = qwen;
  dense_layers.replace(dense_layers.find("\"mlp_only_layers\": []"), 21, "\"mlp_only_layers\": [0]");
  try {
    parse_hf_config(dense_layers, "qwen.json");
    ADD_FAILURE() << "dense layers among the sparse ones were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mlp_only_layers [0]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lmpack
