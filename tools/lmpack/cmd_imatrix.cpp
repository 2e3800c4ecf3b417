// `lmpack imatrix MODEL --calib FILE ... -o OUT`: an importance matrix in
// llama.cpp's GGUF imatrix layout (pipeline/imatrix_job.h computes it from
// the calibration windows). The file is written atomically at the end; an
// interrupt leaves nothing.
#include <cstdio>
#include <filesystem>

#include "cli_calibration.h"
#include "cli_common.h"
#include "cli_output.h"
#include "core/error.h"
#include "io/imatrix.h"
#include "pipeline/imatrix_job.h"

namespace lmpack::cli {
namespace {

struct ImatrixCliOptions {
  std::string model;
  std::string tokenizer;
  CalibCliOptions calib;
  std::string out;
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
    std::vector<std::string> datasets;
    for (const std::string& f : o->calib.files) datasets.push_back(std::filesystem::path(f).filename().string());
    const ImportanceMatrix im = compute_importance_matrix(ckpt, windows, datasets);
    write_imatrix_gguf(im, o->out);
    std::printf("wrote %s: %zu tensors from %zu windows of %lld tokens\n", o->out.c_str(), im.values.size(),
                windows.size(), static_cast<long long>(im.chunk_size));
  };
  return cmd;
}

}  // namespace lmpack::cli
