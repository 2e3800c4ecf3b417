// `lmpack imatrix MODEL --calib FILE ... -o OUT`: an importance matrix in
// llama.cpp's GGUF imatrix layout. The calibration text is cut into windows
// (eval/calibration.h), each window runs through the fast forward from
// position 0, and an observer (model/forward.h) accumulates the mean of the
// squared inputs of every linear layer's columns (stats/act_stats.h). The
// file is written atomically at the end; an interrupt leaves nothing.
#include <cstdio>
#include <filesystem>

#include "cli_common.h"
#include "core/error.h"
#include "core/progress.h"
#include "eval/calibration.h"
#include "io/imatrix.h"
#include "model/forward.h"
#include "model/weights.h"
#include "stats/act_stats.h"

namespace lmpack::cli {
namespace {

struct ImatrixCliOptions {
  std::string model;
  std::string tokenizer;
  std::vector<std::string> calib;
  int64_t samples = 128;
  int64_t ctx = 512;
  uint64_t seed = 0;
  bool consecutive = false;
  std::string out;
};

class StatsObserver final : public LinearInputObserver {
 public:
  explicit StatsObserver(ActStats& stats) : stats_(stats) {}
  void observe(const std::string& name, const float* x, int64_t m, int64_t cols) override {
    stats_.add(name, x, m, cols);
  }

 private:
  ActStats& stats_;
};

}  // namespace

Command add_imatrix_command(CLI::App& parent) {
  auto o = std::make_shared<ImatrixCliOptions>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("imatrix", "Importance matrix from calibration text (llama.cpp's GGUF imatrix)");
  cmd.app = app;
  app->add_option("MODEL", o->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("--calib", o->calib, "Calibration text file (repeatable; concatenated)")->allow_extra_args(false);
  app->add_option("--calib-samples", o->samples, "Windows of calibration text (default 128)");
  app->add_option("--calib-ctx", o->ctx, "Tokens per window, BOS included (default 512)");
  app->add_option("--seed", o->seed, "Seed for the random window starts (default 0)");
  app->add_flag("--consecutive", o->consecutive, "Consecutive windows from the start instead of random ones");
  app->add_option("-o,--output", o->out, "Output imatrix GGUF file")->required();
  app->add_option("--tokenizer", o->tokenizer, "Vocabulary from elsewhere");
  cmd.run = [o] {
    if (o->calib.empty())
      throw Error("--calib", "calibrated methods need --calib FILE; lmpack has no built-in calibration set");
    require_positive("--calib-samples", o->samples);
    if (o->ctx < 2) throw Error("--calib-ctx", cat("must be at least 2, got ", o->ctx));
    for (const std::string& f : o->calib) require_existing_path("--calib", f);
    if (o->out.empty()) throw Error("-o", "needs a file name");
    Checkpoint ckpt = load_model(o->model, o->tokenizer);
    std::unique_ptr<Tokenizer> tokenizer = tokenizer_for(ckpt);

    CalibrationOptions co;
    co.files = o->calib;
    co.samples = o->samples;
    co.ctx = o->ctx;
    co.seed = o->seed;
    co.random = !o->consecutive;
    const std::vector<std::vector<int32_t>> windows = calibration_windows(*tokenizer, co);
    const int64_t vocab = ckpt.config.vocab_size;
    for (const std::vector<int32_t>& w : windows)
      for (int32_t id : w)
        if (id < 0 || id >= vocab)
          throw Error(o->tokenizer.empty() ? o->model : o->tokenizer,
                      cat("token id ", id, " is outside the model's vocabulary of ", vocab,
                          " (tokenizer does not match the model?)"));

    std::shared_ptr<const ModelWeights> weights = build_weights(ckpt);
    std::unique_ptr<ForwardPass> forward = make_fast_forward(weights, o->ctx);
    ActStats stats;
    StatsObserver observer(stats);
    forward->set_observer(&observer);
    std::vector<float> logits(static_cast<size_t>(o->ctx) * vocab);
    Progress progress("imatrix", static_cast<int64_t>(windows.size()), "windows");
    for (size_t i = 0; i < windows.size(); ++i) {
      throw_if_interrupted();
      forward->reset();
      forward->forward(windows[i].data(), static_cast<int64_t>(windows[i].size()), logits.data());
      progress.update(static_cast<int64_t>(i) + 1);
    }
    progress.finish();
    throw_if_interrupted();

    std::vector<std::string> datasets;
    for (const std::string& f : o->calib) datasets.push_back(std::filesystem::path(f).filename().string());
    const ImportanceMatrix im = stats.to_importance_matrix(static_cast<int64_t>(windows.size()), o->ctx, datasets);
    write_imatrix_gguf(im, o->out);
    std::printf("wrote %s: %zu tensors from %zu windows of %lld tokens\n", o->out.c_str(), im.values.size(),
                windows.size(), static_cast<long long>(o->ctx));
  };
  return cmd;
}

}  // namespace lmpack::cli
