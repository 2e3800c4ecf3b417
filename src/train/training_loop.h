// The one training loop behind `lmpack train` and `lmpack distill`: batches
// of text, an objective that turns the model's logits into a loss and its
// gradient, backward, the gradient-norm clip, AdamW on a warmup + cosine
// schedule, progress, saves of the model and of the training state, and an
// exact resume. What is learnt is the objective's: next-token cross-entropy
// (train/train_job.h) or a teacher's distribution (pipeline/distill_job.h).
//
// Each step: grad_accum batches of batch x seq tokens drawn from the text
// (train/token_stream.h), the objective, backward, clip, AdamW. Every
// save_every steps and at the end the model and the training state
// (parameters, AdamW moments, step, and what defines the run: the options,
// the data, the objective's own items) are written, each atomically;
// `resume` continues from the state file and gives the bits an uninterrupted
// run would have given (same threads).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "train/optimizer.h"
#include "train/parameters.h"
#include "train/training_pass.h"

namespace lmpack {

// Options of every training run. Errors name these fields.
struct TrainingOptions {
  std::vector<std::string> data;                // text files (or none, when the caller makes the text)
  std::string doc_separator = "<|endoftext|>";  // "" : a file is one document
  int64_t batch = 8;
  int64_t seq = 0;  // tokens per sequence (0: the model's context, at most 256)
  int64_t steps = 1000;
  int64_t grad_accum = 1;
  float lr = 1e-3f;
  float min_lr = 1e-4f;
  std::optional<int64_t> warmup;  // steps (default: steps / 20)
  AdamWOptions adamw;
  double clip = 1.0;  // max gradient norm (0: none)
  uint64_t seed = 0;  // initialisation and batches

  std::string output;               // *.gguf, or a folder (Hugging Face layout)
  std::string output_type = "f32";  // f32, f16 or bf16
  std::string model_name;           // general.name of a GGUF output ("": the model file's name)
  std::string state;                // the training state file ("": OUTPUT.train-state)
  int64_t save_every = 0;           // steps between saves (0: at the end only)
  bool resume = false;              // continue from `state`
  // Bytes the forward/backward pass may hold for activations (0: no bound).
  // Under a bound the blocks that do not fit recompute their activations in
  // the backward (train/training_pass.h): slower, the same bits.
  size_t activation_memory = 0;
  bool show_progress = false;
};

// Throws Error(field, ...) for options out of range (before anything is read).
void validate_training_options(const TrainingOptions& options);
// The sequence length a run uses: `seq`, or the model's context up to 256.
int64_t training_seq(const TrainingOptions& options, const ModelConfig& config);

// What the model learns from a batch.
class TrainingObjective {
 public:
  virtual ~TrainingObjective() = default;
  // Batch `index` (0, 1, 2, ...: train/token_stream.h) with inputs, targets:
  // [batch, seq] (targets: the next token of each input); logits:
  // [batch * seq, vocab], the model's, replaced by d loss / d logits.
  // Returns the loss of the batch.
  virtual double loss(int64_t index, const int32_t* inputs, const int32_t* targets, float* logits, int64_t batch,
                      int64_t seq) = 0;
  // A loss on the residual stream of the batch that loss() just saw (`pass`
  // holds its forward: pass.block_output(l)). Points block_output_grads[l]
  // (one per block, all null on entry) at d loss / d (block l's output)
  // times grad_scale, in the objective's own buffers (kept until the next
  // call), for the blocks it compares; returns the loss (0: none, the default).
  virtual double hidden_loss(const TrainingPass& pass, float grad_scale,
                             std::vector<const float*>& block_output_grads) {
    (void)pass, (void)grad_scale, (void)block_output_grads;
    return 0.0;
  }
  // Items that define it (a resumed run must agree on them).
  virtual std::map<std::string, std::string> describe() const = 0;
};

// Weights held on a grid while they train (quantization-aware training with a
// straight-through estimator, Bengio et al. 2013): every step the forward and
// backward passes run on project(values), and AdamW updates the latent fp32
// values with the gradient taken at the projected ones, as though the
// projection were the identity. The saves write what the grid makes of the
// latent values (write), so the output holds exactly the weights the last step
// used. A grid deterministic in the latent values keeps resume exact.
class WeightGrid {
 public:
  virtual ~WeightGrid() = default;
  // projected = the grid's values for `latent` (both [layout.size()]).
  virtual void project(const float* latent, float* projected) = 0;
  // Writes the model held on the grid to `path` (base: vocabulary, metadata).
  virtual void write(const TrainableModel& latent, const Checkpoint& base, const std::string& path) = 0;
  // Items that define it (a resumed run must agree on them).
  virtual std::map<std::string, std::string> describe() const = 0;
};

struct TrainStepLog {
  int64_t step = 0;        // 1-based, the step just done
  double loss = 0.0;       // mean loss of its batches
  float lr = 0.0f;
  double grad_norm = 0.0;  // before clipping
  double tokens_per_s = 0.0;
  double seconds = 0.0;    // since the run started
};

struct TrainReport {
  int64_t parameters = 0;
  int64_t data_tokens = 0;     // the tokenized text
  int64_t first_step = 0;      // 0, or the step a resumed run started from
  int64_t steps = 0;           // the step count reached
  int64_t tokens_trained = 0;  // in this session
  double final_loss = 0.0;     // the last step's
  double seconds = 0.0;
  double tokens_per_s = 0.0;
  int64_t peak_rss_bytes = 0;
  size_t activation_bytes = 0;
  int64_t recomputed_blocks = 0;  // under activation_memory
  std::string output, state;
  std::vector<std::string> warnings;
};

// Paths the run writes: checks OUTPUT and the state file (not when
// resuming) before any work (core/output_path.h), `inputs` being the files
// the run reads.
void check_training_outputs(const TrainingOptions& options, const std::vector<std::string>& inputs);

// options.data tokenized with `base`'s vocabulary (train/token_stream.h).
std::vector<int32_t> training_text(const Checkpoint& base, const TrainingOptions& options);

// Trains `model` (its values change) on `text` (token ids, documents with
// their BOS: training_text, or text made otherwise) and writes it with base's
// vocabulary and metadata. `source` says where the model came from (for the
// run's description). With a `grid`, the model trains on it (WeightGrid) and
// the grid writes the output (options.output_type must then be "f32": the
// grid decides the types).
TrainReport run_training(TrainableModel& model, const Checkpoint& base, const std::string& source,
                         const TrainingOptions& options, std::vector<int32_t> text, TrainingObjective& objective,
                         const std::function<void(const TrainStepLog&)>& on_step, WeightGrid* grid = nullptr);

// Next-token cross-entropy on the text (what `lmpack train` learns).
class NextTokenObjective final : public TrainingObjective {
 public:
  double loss(int64_t index, const int32_t* inputs, const int32_t* targets, float* logits, int64_t batch,
              int64_t seq) override;
  std::map<std::string, std::string> describe() const override { return {{"objective", "next-token"}}; }
  explicit NextTokenObjective(int64_t vocab) : vocab_(vocab) {}

 private:
  int64_t vocab_;
};

}  // namespace lmpack
