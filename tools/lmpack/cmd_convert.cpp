// `lmpack convert MODEL OUT [--type T]`: rewrites any model lmpack reads.
// OUT ending in .gguf: a GGUF file as llama.cpp's Hugging Face converter
// writes it (--type f32|f16|bf16|q8_0; 1-D tensors stay F32), through
// quantize_to_gguf with a pure type. Otherwise a Hugging Face folder
// (config.json + model.safetensors) via save_hf (--type f32|f16|bf16).
#include <cctype>
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "cli_output.h"
#include "core/error.h"
#include "core/output_path.h"
#include "core/stopwatch.h"
#include "model/save_hf.h"
#include "pipeline/gguf_quantize.h"

namespace lmpack::cli {
namespace {

struct ConvertOptions {
  std::string model;
  std::string out;
  std::string type = "f32";
  std::string tokenizer;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}


}  // namespace

Command add_convert_command(CLI::App& parent) {
  auto o = std::make_shared<ConvertOptions>();
  Command cmd;
  cmd.app = parent.add_subcommand("convert", "Write a model as a GGUF file (OUT.gguf) or a Hugging Face folder");
  cmd.app->add_option("MODEL", o->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  cmd.app->add_option("OUT", o->out, "Output: a .gguf file, else a folder (created)")->required();
  cmd.app->add_option("--type", o->type, "Tensor type of the output: f32, f16, bf16 or (GGUF only) q8_0 (default f32)");
  cmd.app->add_option("--tokenizer", o->tokenizer, "Vocabulary from elsewhere (not written yet)");
  cmd.run = [o] {
    if (is_gguf_path(o->out)) {
      const std::string t = lower(o->type);
      if (t != "f32" && t != "f16" && t != "bf16" && t != "q8_0")
        throw Error("--type", cat("must be f32, f16, bf16 or q8_0 for GGUF output, got '", o->type, "'"));
      check_output(o->out, OutputKind::kFile, {o->model, o->tokenizer});
      Checkpoint ckpt = load_model(o->model, o->tokenizer);
      QuantizeOptions q;
      q.type_name = t;
      q.pure = true;  // the converter's choice: every matrix this type, 1-D tensors F32
      const QuantizeReport r = quantize_to_gguf(ckpt, o->out, q);
      std::printf("wrote %s (%zu tensors, %s, %lld parameters, %s) in %.2f s\n", o->out.c_str(), r.tensors.size(),
                  t.c_str(), static_cast<long long>(r.parameters),
                  format_bytes(static_cast<int64_t>(r.file_bytes)).c_str(), r.seconds);
      for (const QuantizedTensor& written : r.tensors)
        if (written.fallback) std::printf("fallback: %s\n", written.note.c_str());
      return;
    }
    const DType dtype = parse_float_dtype("--type", o->type);
    check_output(o->out, OutputKind::kFolder, {o->model, o->tokenizer});
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
