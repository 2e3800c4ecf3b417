// run_demo; see demo_job.h.
#include "demo/demo_job.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "demo/demo_corpus.h"
#include "demo/word_vocab.h"
#include "model/checkpoint.h"
#include "pipeline/sweep.h"
#include "train/init.h"
#include "train/training_loop.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

// The stories of each use, apart: no story the model trained on is measured.
constexpr uint64_t kTrainSeed = 1, kCalibrationSeed = 2, kEvaluationSeed = 3;
constexpr int64_t kTrainStories = 6000, kCalibrationStories = 600, kEvaluationStories = 200;

// Rows of 256 and 768, so that every k-quant block applies; 4 blocks.
ModelConfig demo_config(int64_t vocab) {
  ModelConfig c;
  c.architecture = "llama";
  c.dim = 256;
  c.hidden_dim = 768;
  c.n_layers = 4;
  c.n_heads = 8;
  c.n_kv_heads = 4;
  c.head_dim = 32;
  c.vocab_size = vocab;
  c.context_length = 256;
  c.tied_embeddings = true;
  return c;
}

}  // namespace

DemoReport run_demo(const DemoRequest& r, const std::function<void(const std::string&)>& on_stage,
                    const std::function<void(const SweepRun&)>& on_run) {
  Stopwatch clock;
  const auto stage = [&](const std::string& s) {
    if (on_stage) on_stage(s);
  };
  if (r.output.empty()) throw Error("output", "no output folder given");
  if (r.model.empty() && !r.text.empty()) throw Error("text", "applies to a model of yours; the demo model trains on its own stories");
  if (r.model.empty() && !r.tokenizer.empty()) throw Error("tokenizer", "applies to a model of yours");
  if (r.train_steps < 1) throw Error("train_steps", cat("must be >= 1, got ", r.train_steps));
  if (r.methods.empty()) throw Error("methods", "no method given");
  for (const std::string& m : r.methods)
    if (m != "rtn" && m != "imatrix" && m != "gptq")
      throw Error("methods", cat("unknown method '", m, "' (valid: rtn, imatrix, gptq)"));
  if (!r.sweep && !r.model.empty()) throw Error("model", "without the sweep there is nothing to do with a model of yours");
  std::error_code ec;
  if (fs::exists(r.output, ec) && !fs::is_directory(r.output, ec))
    throw Error("output", cat(r.output, " is a file; the demo writes a folder"));
  if (!r.model.empty() && !fs::exists(r.model, ec)) throw Error("model", cat(r.model, ": no such file or directory"));
  if (!r.text.empty() && !fs::exists(r.text, ec)) throw Error("text", cat(r.text, ": no such file or directory"));
  fs::create_directories(r.output);
  const std::string dir = r.output;

  DemoReport report;
  std::string calibration = r.text, evaluation = r.text;
  if (r.text.empty()) {
    stage("writing the demo's stories (generated here, nothing downloaded)");
    calibration = dir + "/calibration.txt";
    evaluation = dir + "/evaluation.txt";
    write_file_atomically(calibration, demo_text(demo_stories(kCalibrationStories, kCalibrationSeed)));
    write_file_atomically(evaluation, demo_text(demo_stories(kEvaluationStories, kEvaluationSeed)));
  }
  report.model = r.model;
  if (r.model.empty()) {
    const std::string train = dir + "/train.txt";
    const std::string text = demo_text(demo_stories(kTrainStories, kTrainSeed));
    write_file_atomically(train, text);
    Checkpoint base;
    base.path = dir + "/demo-model.gguf";
    base.format = "gguf";
    base.vocab = word_vocab(text);
    base.config = demo_config(base.vocab->size());
    report.model = base.path;
    report.trained = true;
    TrainableModel model = init_trainable(base.config, 0);
    TrainingOptions t;
    t.data = {train};
    t.batch = 16;
    t.seq = 128;
    t.steps = r.train_steps;
    t.lr = 3e-3f;
    t.min_lr = 3e-4f;
    t.output = base.path;
    t.model_name = "lmpack-demo";
    t.show_progress = r.show_progress;
    stage(cat("training the demo model (", base.config.n_layers, " blocks, dim ", base.config.dim, ", vocabulary ",
              base.config.vocab_size, ") for ", t.steps, " steps of ", t.batch, " x ", t.seq, " tokens"));
    NextTokenObjective objective(base.config.vocab_size);
    bool first = true;
    const TrainReport tr = run_training(model, base, "the demo's generated stories", t, training_text(base, t), objective,
                                        [&](const TrainStepLog& log) {
                                          if (first) report.first_loss = log.loss;
                                          first = false;
                                        });
    fs::remove(base.path + ".train-state", ec);
    report.parameters = tr.parameters;
    report.train_steps = t.steps;
    report.train_tokens = tr.tokens_trained;
    report.last_loss = tr.final_loss;
    report.train_seconds = tr.seconds;
  }

  if (!r.sweep) {
    report.seconds = clock.seconds();
    return report;
  }
  std::string methods;
  for (const std::string& m : r.methods) methods += (methods.empty() ? "" : ", ") + m;
  stage("sweeping: " + methods + " onto Q2_K, Q3_K_M, Q4_K_M, Q6_K and 3, 4, 5 bits per weight");
  SweepRequest s;
  s.model = report.model;
  s.tokenizer = r.tokenizer;
  s.calibration.files = {calibration};
  s.calibration.samples = 32;
  s.eval_text = evaluation;
  if (r.text.empty()) {
    s.eval_doc_separator = kDemoStorySeparator;
    s.eval_max_docs = kEvaluationStories;
  } else {
    s.eval_chunks = 40;
  }
  s.methods = r.methods;
  s.mixes = std::vector<std::string>{"Q2_K", "Q3_K_M", "Q4_K_M", "Q6_K"};
  s.targets = {3.0, 4.0, 5.0};
  s.sensitivity.max_tokens = 2048;
  s.output = dir + "/report";
  s.show_progress = r.show_progress;
  report.sweep = run_sweep(s, on_run);
  report.report = s.output + "/report.html";
  report.seconds = clock.seconds();
  return report;
}

}  // namespace lmpack
