// ParameterLayout and the way in and out of training: a real checkpoint
// decoded into one buffer (every tensor where the layout says), and written
// back as a checkpoint the runtime runs to the same logits.
#include "train/parameters.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "formats/decode.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "test_paths.h"

namespace lmpack {
namespace {

TEST(ParameterLayout, CountsEveryParameterOnce) {
  ModelConfig c;
  c.dim = 8;
  c.hidden_dim = 12;
  c.n_layers = 3;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 2;
  c.vocab_size = 10;
  c.context_length = 16;
  c.attn_qkv_bias = true;
  const ParameterLayout separate(c);
  const int64_t per_block = 8 + 8 * 8 + 4 * 8 * 2 + 8 + 4 * 2 + 8 * 8 + 8 + 12 * 8 * 3;
  EXPECT_EQ(separate.size(), static_cast<size_t>(10 * 8 * 2 + 8 + 3 * per_block));
  const std::vector<float> values(separate.size());
  const ModelTensors<const float> v = separate.view(values.data());
  EXPECT_NE(v.output, v.token_embd);
  c.tied_embeddings = true;
  c.attn_qkv_bias = false;
  const ParameterLayout tied(c);
  EXPECT_EQ(tied.find("output.weight"), nullptr);
  EXPECT_EQ(tied.find("blk.0.attn_q.bias"), nullptr);
  std::vector<float> buffer(tied.size());
  const ModelTensors<float> t = tied.view(buffer.data());
  EXPECT_EQ(t.output, t.token_embd);
  EXPECT_EQ(t.layers[0].bq, nullptr);
  EXPECT_EQ(t.token_embd + 10 * 8, t.output_norm);  // back to back, in order
  EXPECT_EQ(t.layers[2].w_down + 8 * 12, buffer.data() + tied.size());
  size_t end = 0;
  for (const ParameterTensor& p : tied.tensors()) {
    EXPECT_EQ(p.offset, end) << p.name;
    end += p.size;
  }
  EXPECT_EQ(end, tied.size());
}

// The training pass has no backward for Qwen3's per-head q/k norms: a layout
// for such a model is refused with the reason, never trained without them.
TEST(ParameterLayout, RefusesPerHeadQkNormsByName) {
  ModelConfig c;
  c.architecture = "qwen3";
  c.attn_qk_norm = true;
  c.dim = 64;
  c.hidden_dim = 96;
  c.n_layers = 1;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 32;
  c.vocab_size = 64;
  c.context_length = 32;
  try {
    ParameterLayout layout(c);
    FAIL() << "a Qwen3 layout was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("qwen3: training is not supported for models with per-head q/k norms"),
              std::string::npos)
        << e.what();
  }
}

TEST(TrainableModel, FromACheckpointAndBackRunsTheSame) {
  LMPACK_REQUIRE_SHARED();
  const Checkpoint ckpt = load_checkpoint(testing::shared_path("models/stories260K/stories260K.gguf"));
  const TrainableModel m = trainable_from_checkpoint(ckpt);
  EXPECT_EQ(static_cast<int64_t>(m.layout.size()), ckpt.parameter_count());
  const ParameterTensor* wq = m.layout.find("blk.2.attn_q.weight");
  ASSERT_NE(wq, nullptr);
  std::vector<float> expected(wq->size);
  const TensorInfo& t = ckpt.tensor("blk.2.attn_q.weight");
  decode_to_f32(expected.data(), t.data, t.dtype, t.n_elements());
  for (size_t i = 0; i < wq->size; ++i) ASSERT_EQ(m.values[wq->offset + i], expected[i]) << i;

  const Checkpoint back = checkpoint_from_trainable(m, ckpt);
  std::vector<int32_t> tokens = {1, 50, 200, 7, 33};
  const int64_t vocab = ckpt.config.vocab_size;
  std::vector<float> a(5 * vocab), b(5 * vocab);
  make_fast_forward(build_weights(ckpt))->forward(tokens.data(), 5, a.data());
  make_fast_forward(build_weights(back))->forward(tokens.data(), 5, b.data());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << i;
}

}  // namespace
}  // namespace lmpack
