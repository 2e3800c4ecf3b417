// compute_importance_matrix; see imatrix_job.h.
#include "pipeline/imatrix_job.h"
#include "pipeline/expert_importance.h"

#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/output_path.h"
#include "core/progress.h"
#include "model/load_model.h"
#include "runtime/forward.h"
#include "pipeline/act_stats_observer.h"
#include "runtime/weights.h"
#include "stats/act_stats.h"

namespace lmpack {

ImportanceMatrix compute_importance_matrix(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                           std::vector<std::string> datasets, bool show_progress) {
  if (windows.empty()) throw Error("calibration", "no token windows to compute an importance matrix from");
  const int64_t ctx = static_cast<int64_t>(windows.front().size());
  for (const auto& w : windows)
    if (static_cast<int64_t>(w.size()) != ctx) throw Error("calibration", "token windows differ in length");
  const int64_t vocab = ckpt.config.vocab_size;
  std::unique_ptr<ForwardPass> forward = make_fast_forward(build_weights(ckpt), ctx);
  ActStats stats;
  ActStatsObserver observer(stats);
  forward->set_observer(&observer);
  std::vector<float> logits(static_cast<size_t>(ctx) * vocab);
  std::unique_ptr<Progress> progress;
  if (show_progress) progress = std::make_unique<Progress>("imatrix", static_cast<int64_t>(windows.size()), "windows");
  for (size_t i = 0; i < windows.size(); ++i) {
    throw_if_interrupted();
    forward->reset();
    forward->forward(windows[i].data(), ctx, logits.data());
    if (progress) progress->update(static_cast<int64_t>(i) + 1);
  }
  if (progress) progress->finish();
  throw_if_interrupted();
  ImportanceMatrix im;
  im.chunk_count = static_cast<int64_t>(windows.size());
  im.chunk_size = ctx;
  im.datasets = std::move(datasets);
  im.values = stats.mean_squares();
  stack_expert_importance(im, ckpt.config);  // llama.cpp's layout for a mixture of experts
  return im;
}

ImatrixReport run_imatrix_job(const ImatrixRequest& r) {
  validate_calibration_source(r.calibration, true);
  if (r.output.empty()) throw Error("output", "no output given");
  std::vector<std::string> inputs = {r.model};
  if (!r.tokenizer.empty()) inputs.push_back(r.tokenizer);
  inputs.insert(inputs.end(), r.calibration.files.begin(), r.calibration.files.end());
  check_output_path(r.output, OutputKind::kFile, inputs, {});
  const Checkpoint ckpt = load_model(r.model, r.tokenizer);
  ImatrixReport report;
  const std::string warning = calibration_context_warning(ckpt, r.calibration);
  if (!warning.empty()) report.warnings.push_back(warning);
  const std::vector<std::vector<int32_t>> windows =
      calibration_windows_for(ckpt, r.calibration, r.tokenizer.empty() ? r.model : r.tokenizer);
  std::vector<std::string> datasets;
  for (const std::string& f : r.calibration.files) datasets.push_back(std::filesystem::path(f).filename().string());
  const ImportanceMatrix im = compute_importance_matrix(ckpt, windows, datasets, r.show_progress);
  write_imatrix_gguf(im, r.output);
  report.tensors = static_cast<int64_t>(im.values.size());
  report.windows = static_cast<int64_t>(windows.size());
  report.window_tokens = im.chunk_size;
  return report;
}

}  // namespace lmpack
