// Stacked storage split into lmpack's canonical tensors
// (model/fused_projections.h): Phi-3's fused q/k/v and gate/up and a mixture
// of experts' 3-D stacks become views of the same bytes, row ranges in
// order, in any row type; stacks that do not add up are named.
#include "model/fused_projections.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/tensor_names.h"

namespace lmpack {
namespace {

ModelConfig config() {
  ModelConfig c;
  c.dim = 8;
  c.hidden_dim = 6;
  c.n_layers = 1;
  c.n_heads = 2;
  c.n_kv_heads = 1;
  c.head_dim = 4;
  c.vocab_size = 16;
  c.context_length = 16;
  return c;
}

// A tensor of `rows` x 8 bytes (dtype I8: one byte a value) whose byte r*8 + j is r.
TensorInfo rows_tensor(Checkpoint& c, const std::string& name, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  auto bytes = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) (*bytes)[static_cast<size_t>(i)] = static_cast<uint8_t>(i / shape.back());
  c.keep_alive.push_back(bytes);
  TensorInfo t;
  t.name = name;
  t.dtype = DType::I8;
  t.shape = std::move(shape);
  t.data = bytes->data();
  t.nbytes = bytes->size();
  return t;
}

TEST(FusedProjections, QkvAndGateUpSplitIntoRowRanges) {
  Checkpoint c;
  c.path = "m";
  c.config = config();  // q 8 rows, k and v 4 each; gate and up 6 each
  c.tensors["blk.0.attn_qkv.weight"] = rows_tensor(c, "blk.0.attn_qkv.weight", {16, 8});
  c.tensors["blk.0.ffn_gate_up.weight"] = rows_tensor(c, "blk.0.ffn_gate_up.weight", {12, 8});
  const uint8_t* qkv = c.tensors["blk.0.attn_qkv.weight"].data;
  split_fused_projections(c);
  EXPECT_EQ(c.find("blk.0.attn_qkv.weight"), nullptr);
  const TensorInfo& q = c.tensor("blk.0.attn_q.weight");
  const TensorInfo& v = c.tensor("blk.0.attn_v.weight");
  EXPECT_EQ(q.shape, (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(v.shape, (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(q.data, qkv);         // a view, not a copy
  EXPECT_EQ(v.data[0], 12);       // v's first row is row 12 of the stack
  EXPECT_EQ(c.tensor("blk.0.ffn_up.weight").data[0], 6);
  EXPECT_EQ(c.tensor("blk.0.ffn_gate.weight").nbytes, 48u);

  Checkpoint bad;
  bad.path = "m";
  bad.config = config();
  bad.tensors["blk.0.attn_qkv.weight"] = rows_tensor(bad, "blk.0.attn_qkv.weight", {12, 8});
  try {
    split_fused_projections(bad);
    ADD_FAILURE() << "a 12-row qkv was split";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "m: tensor blk.0.attn_qkv.weight has shape [12, 8]; expected 16 rows (q, k, v stacked)");
  }
}

TEST(FusedProjections, ExpertStacksSplitIntoOneViewPerExpert) {
  Checkpoint c;
  c.path = "m";
  c.config = config();
  c.config.n_experts = 3;
  c.config.n_experts_used = 2;
  c.config.expert_hidden_dim = 6;
  c.tensors["blk.0.ffn_up_exps.weight"] = rows_tensor(c, "blk.0.ffn_up_exps.weight", {3, 6, 8});
  split_stacked_experts(c);
  EXPECT_EQ(c.find("blk.0.ffn_up_exps.weight"), nullptr);
  const TensorInfo& e2 = c.tensor(expert_tensor_name(0, "ffn_up_exps", 2));
  EXPECT_EQ(e2.shape, (std::vector<int64_t>{6, 8}));
  EXPECT_EQ(e2.data[0], 12);  // expert 2 starts at row 2 x 6 of the stack
  EXPECT_EQ(e2.nbytes, 48u);

  Checkpoint bad;
  bad.path = "m";
  bad.config = c.config;
  bad.tensors["blk.0.ffn_up_exps.weight"] = rows_tensor(bad, "blk.0.ffn_up_exps.weight", {4, 6, 8});
  EXPECT_THROW(split_stacked_experts(bad), Error);
}

}  // namespace
}  // namespace lmpack
