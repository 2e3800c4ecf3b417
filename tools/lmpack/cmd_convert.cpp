// `lmpack convert MODEL OUT_DIR [--type f32|f16|bf16]`: rewrites any model
// lmpack reads as a Hugging Face folder (config.json + model.safetensors) via
// save_hf. GGUF output comes later; an OUT ending in .gguf is refused.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "core/error.h"
#include "eval/resource_usage.h"
#include "model/save_hf.h"

namespace lmpack::cli {
namespace {

struct ConvertOptions {
  std::string model;
  std::string out;
  std::string type = "f32";
  std::string tokenizer;
};

bool ends_with_gguf(const std::string& s) {
  if (s.size() < 5) return false;
  std::string tail = s.substr(s.size() - 5);
  for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tail == ".gguf";
}

}  // namespace

Command add_convert_command(CLI::App& parent) {
  auto o = std::make_shared<ConvertOptions>();
  Command cmd;
  cmd.app = parent.add_subcommand("convert", "Write a model as a Hugging Face folder");
  cmd.app->add_option("MODEL", o->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  cmd.app->add_option("OUT_DIR", o->out, "Output folder (created)")->required();
  cmd.app->add_option("--type", o->type, "Tensor type of the output: f32, f16 or bf16 (default f32)");
  cmd.app->add_option("--tokenizer", o->tokenizer, "Vocabulary from elsewhere (not written yet)");
  cmd.run = [o] {
    if (ends_with_gguf(o->out)) throw Error(o->out, "GGUF output is not supported yet");
    const DType dtype = parse_float_dtype("--type", o->type);
    Checkpoint ckpt = load_model(o->model, o->tokenizer);
    Stopwatch clock;
    save_hf(ckpt, o->out, dtype);
    std::printf("wrote %s (%zu tensors, %s, %lld parameters) in %.2f s\n", o->out.c_str(), ckpt.tensors.size(),
                std::string(dtype_name(dtype)).c_str(), static_cast<long long>(ckpt.parameter_count()),
                clock.seconds());
  };
  return cmd;
}

}  // namespace lmpack::cli
