// `lmpack imatrix MODEL --calib FILE ... -o OUT`: an importance matrix in
// llama.cpp's GGUF imatrix layout, computed and written by the library's job
// (pipeline/imatrix_job.h).
#include <cstdio>

#include "cli_calibration.h"
#include "cli_common.h"
#include "cli_errors.h"
#include "core/error.h"
#include "pipeline/imatrix_job.h"

namespace lmpack::cli {

Command add_imatrix_command(CLI::App& parent) {
  auto r = std::make_shared<ImatrixRequest>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("imatrix", "Importance matrix from calibration text (llama.cpp's GGUF imatrix)");
  cmd.app = app;
  cmd.flags = {{"output", "-o"}};
  app->add_option("MODEL", r->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  add_calibration_options(app, r->calibration);
  app->add_option("-o,--output", r->output, "Output imatrix GGUF file")->required();
  app->add_option("--tokenizer", r->tokenizer, "Vocabulary from elsewhere");
  cmd.run = [r] {
    const ImatrixReport report = run_imatrix_job(*r);
    print_warnings(report.warnings);
    std::printf("wrote %s: %lld tensors from %lld windows of %lld tokens\n", r->output.c_str(),
                static_cast<long long>(report.tensors), static_cast<long long>(report.windows),
                static_cast<long long>(report.window_tokens));
  };
  return cmd;
}

}  // namespace lmpack::cli
