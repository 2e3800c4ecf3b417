// The whole `lmpack convert` job behind one request: any model lmpack reads,
// rewritten without calibration. An output ending in .gguf is a GGUF file as
// llama.cpp's Hugging Face converter writes it (type f32, f16, bf16 or q8_0;
// 1-D tensors stay F32), through quantize_to_gguf with a pure type
// (pipeline/gguf_quantize.h); any other output is a Hugging Face folder
// (config.json + model.safetensors, model/save_hf.h; type f32, f16 or bf16).
// The output is checked before the model is read and appears whole or not at
// all. The steps that made the input (Checkpoint::recipe) stay in the output. Errors name the request's field ("type", "output", "tokenizer") or the
// file, never a command-line flag.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmpack {

struct ConvertRequest {
  std::string model;      // GGUF file, llama2.c .bin, Hugging Face folder
  std::string tokenizer;  // a vocabulary from elsewhere ("" : the model's); not written yet
  std::string output;     // a .gguf file, else a folder
  std::string type = "f32";
};

struct ConvertReport {
  bool gguf = false;             // a GGUF file was written (else a Hugging Face folder)
  std::string type;              // as written: "q8_0", "bf16", ...
  int64_t tensors = 0;
  int64_t parameters = 0;
  uint64_t file_bytes = 0;       // GGUF only: the size of the output file
  std::vector<std::string> fallbacks;  // GGUF only: tensors kept in another type, and why
  double seconds = 0.0;          // writing (after the model is loaded)
};

ConvertReport convert_model(const ConvertRequest& request);

}  // namespace lmpack
