// `lmpack imatrix MODEL --calib FILE ... -o OUT`: an importance matrix in
// llama.cpp's GGUF imatrix layout. The calibration text is cut into windows
// (eval/calibration.h), each window runs through the fast forward from
// position 0, and an observer (model/forward.h) accumulates the mean of the
// squared inputs of every linear layer's columns (stats/act_stats.h). The
// file is written atomically at the end; an interrupt leaves nothing.
#include <cstdio>
#include <filesystem>

#include "cli_calibration.h"
#include "cli_common.h"
#include "cli_output.h"
#include "core/error.h"
#include "core/progress.h"
#include "io/imatrix.h"
#include "model/forward.h"
#include "model/weights.h"
#include "stats/act_stats.h"

namespace lmpack::cli {
namespace {

struct ImatrixCliOptions {
  std::string model;
  std::string tokenizer;
  CalibCliOptions calib;
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
  add_calibration_options(app, o->calib);
  app->add_option("-o,--output", o->out, "Output imatrix GGUF file")->required();
  app->add_option("--tokenizer", o->tokenizer, "Vocabulary from elsewhere");
  cmd.run = [o] {
    validate_calibration_options(o->calib);
    if (o->out.empty()) throw Error("-o", "needs a file name");
    check_output(o->out, OutputKind::kFile, {o->model, o->tokenizer}, o->calib.files);
    Checkpoint ckpt = load_model(o->model, o->tokenizer);
    const std::vector<std::vector<int32_t>> windows =
        calibration_windows_for(ckpt, o->calib, o->tokenizer.empty() ? o->model : o->tokenizer);
    const int64_t vocab = ckpt.config.vocab_size;
    const int64_t ctx = static_cast<int64_t>(windows.front().size());

    std::shared_ptr<const ModelWeights> weights = build_weights(ckpt);
    std::unique_ptr<ForwardPass> forward = make_fast_forward(weights, ctx);
    ActStats stats;
    StatsObserver observer(stats);
    forward->set_observer(&observer);
    std::vector<float> logits(static_cast<size_t>(ctx) * vocab);
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
    for (const std::string& f : o->calib.files) datasets.push_back(std::filesystem::path(f).filename().string());
    const ImportanceMatrix im = stats.to_importance_matrix(static_cast<int64_t>(windows.size()), ctx, datasets);
    write_imatrix_gguf(im, o->out);
    std::printf("wrote %s: %zu tensors from %zu windows of %lld tokens\n", o->out.c_str(), im.values.size(),
                windows.size(), static_cast<long long>(ctx));
  };
  return cmd;
}

}  // namespace lmpack::cli
