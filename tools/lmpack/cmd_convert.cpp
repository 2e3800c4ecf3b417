// `lmpack convert MODEL OUT [--type T]`: fills a ConvertRequest
// (pipeline/convert.h: OUT ending in .gguf is a GGUF file, else a Hugging
// Face folder) and prints what was written.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "pipeline/convert.h"

namespace lmpack::cli {

Command add_convert_command(CLI::App& parent) {
  auto r = std::make_shared<ConvertRequest>();
  Command cmd;
  cmd.app = parent.add_subcommand("convert", "Write a model as a GGUF file (OUT.gguf) or a Hugging Face folder");
  cmd.flags = {{"type", "--type"}};
  cmd.app->add_option("MODEL", r->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  cmd.app->add_option("OUT", r->output, "Output: a .gguf file, else a folder (created)")->required();
  cmd.app->add_option("--type", r->type, "Tensor type of the output: f32, f16, bf16 or (GGUF only) q8_0 (default f32)");
  cmd.app->add_option("--tokenizer", r->tokenizer, "Vocabulary from elsewhere (not written yet)");
  cmd.run = [r] {
    const ConvertReport report = convert_model(*r);
    if (report.gguf) {
      std::printf("wrote %s (%lld tensors, %s, %lld parameters, %s) in %.2f s\n", r->output.c_str(),
                  static_cast<long long>(report.tensors), report.type.c_str(),
                  static_cast<long long>(report.parameters), format_bytes(static_cast<int64_t>(report.file_bytes)).c_str(),
                  report.seconds);
      for (const std::string& note : report.fallbacks) std::printf("fallback: %s\n", note.c_str());
      return;
    }
    std::printf("wrote %s (%lld tensors, %s, %lld parameters) in %.2f s\n", r->output.c_str(),
                static_cast<long long>(report.tensors), report.type.c_str(), static_cast<long long>(report.parameters),
                report.seconds);
  };
  return cmd;
}

}  // namespace lmpack::cli
