// run_train_job end to end on real text (TinyStories) with the real tok512
// vocabulary: a fresh model from a config.json learns (its loss falls) and
// its output runs in the runtime with the trained values; a run stopped and
// resumed from its state gives the same bytes as one never stopped; a state
// from another run is refused; bad requests name their field.
#include "train/train_job.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "model/checkpoint.h"
#include "test_paths.h"
#include "train/parameters.h"
#include "train/train_state.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string error_of(const TrainRequest& r) {
  try {
    run_train_job(r);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

class TrainJob : public ::testing::Test {
 protected:
  void SetUp() override {
    LMPACK_REQUIRE_SHARED();
    dir_ = testing::temp_dir() + "/train-job";
    fs::create_directories(dir_);
    config_ = dir_ + "/config.json";
    std::ofstream(config_) << R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 160,
      "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512,
      "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "tie_word_embeddings": true})";
  }
  TrainRequest request(const std::string& out) const {
    TrainRequest r;
    r.config = config_;
    r.tokenizer = testing::shared_path("models/stories260K/tok512.bin");
    r.training.data = {testing::shared_path("data/tinystories-valid/tinystories_valid_first1000.txt")};
    r.training.batch = 4;
    r.training.seq = 64;
    r.training.steps = 30;
    r.training.lr = 3e-3f;
    r.training.output = dir_ + "/" + out;
    return r;
  }
  std::string dir_, config_;
};

TEST_F(TrainJob, AFreshModelLearnsAndItsOutputHoldsTheTrainedValues) {
  std::vector<double> losses;
  const TrainReport report = run_train_job(request("fresh.gguf"), [&](const TrainStepLog& s) { losses.push_back(s.loss); });
  ASSERT_EQ(losses.size(), 30u);
  EXPECT_NEAR(losses.front(), std::log(512.0), 0.3);  // a fresh model guesses uniformly
  EXPECT_LT(losses.back(), losses.front() - 1.0) << "the loss did not fall";
  EXPECT_EQ(report.steps, 30);
  EXPECT_EQ(report.tokens_trained, 30 * 4 * 64);
  EXPECT_GT(report.data_tokens, 300000);
  const Checkpoint out = load_checkpoint(report.output);
  EXPECT_EQ(out.config.dim, 64);
  ASSERT_TRUE(out.vocab.has_value());
  EXPECT_EQ(out.vocab->size(), 512);
  const TrainableModel written = trainable_from_checkpoint(out);
  const TrainState state = load_train_state(report.state);
  EXPECT_EQ(state.step, 30);
  EXPECT_EQ(written.values, state.values);
}

TEST_F(TrainJob, AResumedRunGivesTheBytesOfAnUnstoppedOne) {
  TrainRequest straight = request("straight.gguf");
  straight.training.steps = 8;
  run_train_job(straight);

  TrainRequest stopped = request("stopped.gguf");
  stopped.training.steps = 8;
  stopped.training.save_every = 4;
  // A stop after step 5: the state on disk is the one saved at step 4.
  EXPECT_THROW(run_train_job(stopped, [](const TrainStepLog& s) {
                 if (s.step == 5) throw Error("test", "stopped");
               }),
               Error);
  EXPECT_EQ(load_train_state(stopped.training.output + ".train-state").step, 4);
  stopped.training.resume = true;
  const TrainReport resumed = run_train_job(stopped);
  EXPECT_EQ(resumed.first_step, 4);
  EXPECT_EQ(resumed.tokens_trained, 4 * 4 * 64);
  EXPECT_EQ(read_bytes(straight.training.output), read_bytes(stopped.training.output));
  EXPECT_EQ(load_train_state(straight.training.output + ".train-state").values,
            load_train_state(stopped.training.output + ".train-state").values);

  // The same state with another learning rate is another run.
  stopped.training.lr = 1e-3f;
  stopped.training.steps = 8;
  const std::string state = stopped.training.output + ".train-state";
  save_train_state(state, [&] {
    TrainState s = load_train_state(state);
    s.step = 4;
    return s;
  }());
  EXPECT_EQ(error_of(stopped), "resume: " + state + " is the state of another run: lr was 0.003 to 0.0001 warmup 0, "
                               "is now 0.001 to 0.0001 warmup 0");
}

// A bound on activation memory recomputes blocks in the backward: the run
// holds less and writes the same bytes.
TEST_F(TrainJob, AnActivationBoundGivesTheSameBytesInLessMemory) {
  TrainRequest free = request("free.gguf");
  free.training.steps = 4;
  const TrainReport unbounded = run_train_job(free);
  TrainRequest bounded = request("bounded.gguf");
  bounded.training.steps = 4;
  bounded.training.activation_memory = unbounded.activation_bytes - 1;
  const TrainReport report = run_train_job(bounded);
  EXPECT_EQ(unbounded.recomputed_blocks, 0);
  EXPECT_EQ(report.recomputed_blocks, 1);  // two blocks, one set: the first is recomputed
  EXPECT_LT(report.activation_bytes, unbounded.activation_bytes);
  EXPECT_EQ(read_bytes(free.training.output), read_bytes(bounded.training.output));

  bounded.training.activation_memory = 1 << 20;
  fs::remove(bounded.training.output);
  fs::remove(bounded.training.output + ".train-state");
  EXPECT_EQ(error_of(bounded).rfind("activation_memory: 1 MiB is less than the ", 0), 0u) << error_of(bounded);
  EXPECT_FALSE(fs::exists(bounded.training.output));
}

TEST_F(TrainJob, BadRequestsNameTheirField) {
  TrainRequest two = request("x.gguf");
  two.like = testing::shared_path("models/stories260K/stories260K.gguf");
  EXPECT_EQ(error_of(two).rfind("model: give exactly one of", 0), 0u) << error_of(two);
  TrainRequest no_vocab = request("x.gguf");
  no_vocab.tokenizer.clear();
  EXPECT_EQ(error_of(no_vocab), "tokenizer: a model made from `config` needs a vocabulary: pass `tokenizer`");
  TrainRequest long_seq = request("x.gguf");
  long_seq.training.seq = 129;
  EXPECT_EQ(error_of(long_seq), "seq: 129 tokens per sequence is beyond the model's context of 128");
  // A Mistral's window: the training pass attends over whole sequences, so a
  // sequence longer than the window is refused rather than trained wrongly.
  const std::string mistral = dir_ + "/mistral.json";
  std::ofstream(mistral) << R"({"architectures": ["MistralForCausalLM"], "hidden_size": 64,
    "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "vocab_size": 512, "max_position_embeddings": 128, "sliding_window": 32, "tie_word_embeddings": true})";
  TrainRequest windowed = request("x.gguf");
  windowed.config = mistral;
  EXPECT_EQ(error_of(windowed), "seq: 64 tokens per sequence is beyond the model's sliding window of 32 tokens, "
                                "which the training pass does not apply");
  TrainRequest lr = request("x.gguf");
  lr.training.min_lr = 1.0f;
  EXPECT_EQ(error_of(lr), "min_lr: must be between 0 and `lr` (0.003), got 1");
  TrainRequest little = request("x.gguf");
  const std::string tiny = dir_ + "/tiny.txt";
  std::ofstream(tiny) << "Once upon a time.";
  little.training.data = {tiny};
  EXPECT_EQ(error_of(little).rfind("data: the text has ", 0), 0u) << error_of(little);
  TrainRequest no_state = request("never.gguf");
  no_state.training.resume = true;
  EXPECT_NE(error_of(no_state).find("never.gguf.train-state"), std::string::npos) << error_of(no_state);
  EXPECT_FALSE(fs::exists(dir_ + "/x.gguf"));
  EXPECT_FALSE(fs::exists(dir_ + "/never.gguf"));
}

}  // namespace
}  // namespace lmpack
