// run_training and the next-token objective; see training_loop.h.
#include "train/training_loop.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

#include "core/error.h"
#include "core/hash.h"
#include "core/output_path.h"
#include "core/progress.h"
#include "core/resource_usage.h"
#include "core/stopwatch.h"
#include "model/load_model.h"
#include "model/save_gguf.h"
#include "model/save_hf.h"
#include "train/losses.h"
#include "train/token_stream.h"
#include "train/train_state.h"
#include "train/training_pass.h"

namespace lmpack {
namespace {

constexpr int64_t kDefaultMaxSeq = 256;

// What the run is: a resumed run must agree on every item.
std::map<std::string, std::string> describe_run(const TrainingOptions& r, const ModelConfig& c,
                                                const std::string& source, int64_t seq, int64_t warmup,
                                                const std::vector<int32_t>& stream) {
  return {{"source", source},
          {"shape", cat(c.dim, "x", c.hidden_dim, "x", c.n_layers, " heads ", c.n_heads, "/", c.n_kv_heads,
                        " head_dim ", c.head_dim, " vocab ", c.vocab_size, c.tied_embeddings ? " tied" : "",
                        c.attn_qkv_bias ? " qkv-bias" : "")},
          {"batch", std::to_string(r.batch)},
          {"seq", std::to_string(seq)},
          {"grad_accum", std::to_string(r.grad_accum)},
          {"steps", std::to_string(r.steps)},
          {"lr", cat(r.lr, " to ", r.min_lr, " warmup ", warmup)},
          {"adamw", cat(r.adamw.beta1, " ", r.adamw.beta2, " ", r.adamw.eps, " decay ", r.adamw.weight_decay)},
          {"clip", cat(r.clip)},
          {"seed", std::to_string(r.seed)},
          {"data", cat(stream.size(), " tokens, fnv1a ", fnv1a64_ids(stream))}};
}

void write_model(const TrainableModel& model, const Checkpoint& base, const std::string& output, DType type,
                 const std::string& model_name) {
  const Checkpoint out = checkpoint_from_trainable(model, base);
  if (is_gguf_path(output))
    save_gguf(out, output, type, model_name);
  else
    save_hf(out, output, type);
}

std::string state_path_of(const TrainingOptions& r) { return r.state.empty() ? r.output + ".train-state" : r.state; }

}  // namespace

int64_t training_seq(const TrainingOptions& options, const ModelConfig& config) {
  return options.seq != 0 ? options.seq : std::min(kDefaultMaxSeq, config.context_length);
}

void validate_training_options(const TrainingOptions& r) {
  if (r.output.empty()) throw Error("output", "no output given");
  auto at_least = [](const char* field, int64_t v, int64_t min) {
    if (v < min) throw Error(field, cat("must be at least ", min, ", got ", v));
  };
  at_least("batch", r.batch, 1);
  at_least("steps", r.steps, 1);
  at_least("grad_accum", r.grad_accum, 1);
  at_least("save_every", r.save_every, 0);
  if (r.seq != 0) at_least("seq", r.seq, 2);
  if (r.warmup) at_least("warmup", *r.warmup, 0);
  if (!(r.lr > 0.0f) || !std::isfinite(r.lr)) throw Error("lr", cat("must be a positive number, got ", r.lr));
  if (!(r.min_lr >= 0.0f) || r.min_lr > r.lr)
    throw Error("min_lr", cat("must be between 0 and `lr` (", r.lr, "), got ", r.min_lr));
  if (!(r.clip >= 0.0) || !std::isfinite(r.clip)) throw Error("clip", cat("must be 0 (none) or positive, got ", r.clip));
  const AdamWOptions& a = r.adamw;
  if (!(a.beta1 >= 0.0f && a.beta1 < 1.0f)) throw Error("beta1", cat("must be in [0, 1), got ", a.beta1));
  if (!(a.beta2 >= 0.0f && a.beta2 < 1.0f)) throw Error("beta2", cat("must be in [0, 1), got ", a.beta2));
  if (!(a.eps > 0.0f)) throw Error("eps", cat("must be positive, got ", a.eps));
  if (!(a.weight_decay >= 0.0f)) throw Error("weight_decay", cat("must be 0 or positive, got ", a.weight_decay));
  parse_float_dtype("output_type", r.output_type);
}

void check_training_outputs(const TrainingOptions& r, const std::vector<std::string>& inputs) {
  std::vector<std::string> all = inputs;
  all.insert(all.end(), r.data.begin(), r.data.end());
  if (is_gguf_path(r.output))
    check_output_path(r.output, OutputKind::kFile, all);
  else
    check_output_path(r.output, OutputKind::kFolder, all, hf_output_files());
  if (!r.resume) check_output_path(state_path_of(r), OutputKind::kFile, all);
}

double NextTokenObjective::loss(int64_t, const int32_t*, const int32_t* targets, float* logits, int64_t batch,
                                int64_t seq) {
  return cross_entropy(logits, logits, targets, batch * seq, vocab_);
}

std::vector<int32_t> training_text(const Checkpoint& base, const TrainingOptions& options) {
  return tokenize_documents(*tokenizer_for(base), options.data, options.doc_separator, "data");
}

TrainReport run_training(TrainableModel& model, const Checkpoint& base, const std::string& source,
                         const TrainingOptions& r, std::vector<int32_t> stream, TrainingObjective& objective,
                         const std::function<void(const TrainStepLog&)>& on_step, WeightGrid* grid) {
  Stopwatch clock;
  const DType type = parse_float_dtype("output_type", r.output_type);
  if (grid != nullptr && type != DType::F32)
    throw Error("output_type", cat("a model trained on a grid is written in the grid's types, not ", r.output_type));
  const std::string state_path = state_path_of(r);
  const ModelConfig& c = model.layout.config();
  const int64_t seq = training_seq(r, c);
  if (seq > c.context_length)
    throw Error("seq", cat(seq, " tokens per sequence is beyond the model's context of ", c.context_length));
  // The training pass attends over whole sequences: exact while they fit the window.
  if (c.sliding_window > 0 && seq > c.sliding_window)
    throw Error("seq", cat(seq, " tokens per sequence is beyond the model's sliding window of ", c.sliding_window,
                           " tokens, which the training pass does not apply"));
  const int64_t warmup = r.warmup ? *r.warmup : r.steps / 20;

  for (int32_t id : stream)
    if (id < 0 || id >= c.vocab_size)
      throw Error("data", cat("token id ", id, " of the text is outside the model's vocabulary [0, ", c.vocab_size, ")"));
  std::map<std::string, std::string> run = describe_run(r, c, source, seq, warmup, stream);
  for (const auto& [key, value] : objective.describe()) run[key] = value;
  if (grid != nullptr)
    for (const auto& [key, value] : grid->describe()) run["grid " + key] = value;
  TrainReport report;
  report.parameters = static_cast<int64_t>(model.layout.size());
  report.data_tokens = static_cast<int64_t>(stream.size());
  report.output = r.output;
  report.state = state_path;
  const TrainingBatches batches(std::move(stream), r.batch, seq, r.seed, "data");

  AdamW adam(model.layout, r.adamw);
  if (r.resume) {
    TrainState saved = load_train_state(state_path);
    check_same_run(saved, run, state_path, "resume");
    if (saved.values.size() != model.layout.size())
      throw Error(state_path, cat("holds ", saved.values.size(), " parameters, the model has ", model.layout.size()));
    if (saved.step >= r.steps) throw Error("resume", cat(state_path, " has done all ", r.steps, " steps already"));
    model.values = std::move(saved.values);
    adam.restore(saved.step, std::move(saved.first), std::move(saved.second));
    report.first_step = saved.step;
  }

  // On a grid the passes run on the projected copy (the straight-through
  // estimator: its gradient updates the latent values).
  std::optional<TrainableModel> projected;
  if (grid != nullptr) projected = TrainableModel{model.layout, model.values, model.rope_inv_freq, model.source};
  TrainingPass pass(projected ? *projected : model, r.batch, seq, TrainKernels::kFast, r.activation_memory);
  report.activation_bytes = pass.activation_bytes();
  report.recomputed_blocks = pass.recomputed_blocks();
  const int64_t rows = r.batch * seq;
  std::vector<int32_t> tokens(static_cast<size_t>(rows)), targets(static_cast<size_t>(rows));
  std::vector<float> logits(static_cast<size_t>(rows * c.vocab_size)), grads(model.layout.size());
  std::vector<const float*> block_grads(static_cast<size_t>(c.n_layers));
  const LearningRateSchedule schedule{r.lr, r.min_lr, warmup, r.steps};
  std::unique_ptr<Progress> progress;
  if (r.show_progress) progress = std::make_unique<Progress>("train", r.steps - report.first_step, "steps");
  auto save = [&](int64_t step) {
    if (grid != nullptr)
      grid->write(model, base, r.output);
    else
      write_model(model, base, r.output, type, r.model_name);
    save_train_state(state_path, TrainState{step, model.values, adam.first_moment(), adam.second_moment(), run});
  };

  Stopwatch training;
  for (int64_t step = report.first_step; step < r.steps; ++step) {
    throw_if_interrupted();
    std::fill(grads.begin(), grads.end(), 0.0f);
    if (grid != nullptr) grid->project(model.values.data(), projected->values.data());
    double loss = 0.0;
    for (int64_t micro = 0; micro < r.grad_accum; ++micro) {
      batches.fill(step * r.grad_accum + micro, tokens.data(), targets.data());
      pass.forward(tokens.data(), logits.data());
      loss += objective.loss(step * r.grad_accum + micro, tokens.data(), targets.data(), logits.data(), r.batch, seq);
      const float scale = 1.0f / static_cast<float>(r.grad_accum);
      std::fill(block_grads.begin(), block_grads.end(), nullptr);
      loss += objective.hidden_loss(pass, scale, block_grads);
      if (r.grad_accum > 1)
        for (float& g : logits) g *= scale;
      pass.backward(logits.data(), grads.data(), &block_grads);
    }
    loss /= static_cast<double>(r.grad_accum);
    if (!std::isfinite(loss))
      throw Error("lr", cat("the loss became ", loss, " at step ", step + 1, ": training diverged (lower `lr`, or "
                            "clip harder with `clip`)"));
    const double norm = clip_gradient_norm(grads.data(), grads.size(), r.clip);
    const float lr = learning_rate_at(schedule, step);
    adam.step(model.values.data(), grads.data(), lr);
    report.tokens_trained += rows * r.grad_accum;
    report.steps = step + 1;
    report.final_loss = loss;
    const TrainStepLog log{step + 1, loss, lr, norm,
                           static_cast<double>(report.tokens_trained) / training.seconds(), clock.seconds()};
    if (on_step) on_step(log);
    if (progress) {
      progress->set_note(cat("loss ", loss, "  ", static_cast<int64_t>(log.tokens_per_s), " tok/s"));
      progress->update(step + 1 - report.first_step);
    }
    if (r.save_every > 0 && (step + 1) % r.save_every == 0 && step + 1 < r.steps) save(step + 1);
  }
  if (progress) progress->finish();
  save(r.steps);
  report.seconds = clock.seconds();
  report.tokens_per_s = static_cast<double>(report.tokens_trained) / training.seconds();
  report.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace lmpack
