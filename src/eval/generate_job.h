// The whole `lmpack generate` job behind one request: load a model (and a
// vocabulary from elsewhere), size the forward pass to what the run can reach,
// continue the prompt (runtime/generate.h), handing each piece of text to a
// callback as soon as it is known, and report the speeds and peak memory.
// Errors name the request's field ("max_new_tokens", "top_p") or the file,
// never a command-line flag.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/generate.h"

namespace lmpack {

struct GenerateRequest {
  std::string model;      // GGUF file, llama2.c .bin, Hugging Face folder
  std::string tokenizer;  // a vocabulary from elsewhere ("" : the model's)
  std::string prompt;
  int64_t max_new_tokens = 64;              // >= 0
  float temperature = 0.0f;                 // >= 0; 0: greedy
  float top_p = GenerateOptions{}.top_p;    // in (0, 1], used when sampling
  uint64_t seed = 0;
  bool reference = false;                   // the slow reference forward instead of the fast one
  bool echo_prompt = false;                 // hand the prompt to on_piece first, once the model is loaded
};

struct GenerateReport {
  GenerateStats stats;
  int64_t context = 0;         // positions the forward pass was sized for
  int64_t peak_rss_bytes = 0;  // of this process, at the end
};

// Error(field, ...) for a value no run can take; needs no model.
void validate_generate_request(const GenerateRequest& request);

// Runs the request; on_piece gets the text as it comes (may be empty).
GenerateReport run_generate_job(const GenerateRequest& request, const PieceCallback& on_piece = {});

}  // namespace lmpack
