// The whole `lmpack eval` job behind one request: a model (and a vocabulary
// from elsewhere), a text file cut into windows or documents
// (eval/perplexity.h), perplexity through the fast or the reference forward,
// optionally the per-position log-probabilities saved to a file and a
// comparison against a saved base run (KL divergence, top-1 agreement;
// eval/kl.h, eval/logits_file.h). Everything that can be refused (the
// request, the output file, the base file, the tokens) is checked before any
// weight is decoded. Errors name the request's field ("ctx", "max_docs",
// "save_logits") or the file, never a command-line flag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eval/kl.h"
#include "eval/perplexity.h"

namespace lmpack {

struct EvalRequest {
  std::string model;      // GGUF file, llama2.c .bin, Hugging Face folder
  std::string tokenizer;  // a vocabulary from elsewhere ("" : the model's)
  std::string text;       // the text file to evaluate
  // Tokens per window / document cut, at least 2; none: the model's context,
  // at most kDefaultEvalCtxCap (default_eval_ctx).
  std::optional<int64_t> ctx;
  // Window mode (no doc_separator): at most this many windows (0: all).
  std::optional<int64_t> chunks;
  // Set: document mode, the text split on this (non-empty) string.
  std::optional<std::string> doc_separator;
  // Document mode: the first N documents (0: all).
  std::optional<int64_t> max_docs;
  bool score_second_half = false;          // window mode: score [ctx/2, ctx) only (llama.cpp)
  std::optional<std::string> save_logits;  // set: write log-probabilities to this file
  std::string base;                        // a saved_logits file to compare against ("" : none)
  bool reference = false;                  // the slow reference forward instead of the fast one
};

struct EvalReport {
  PerplexityResult result;
  double nll_mean = 0.0;       // mean NLL per scored token (0 when none)
  int64_t ctx = 0;             // the window / document cut used
  bool documents = false;      // document mode
  int64_t positions = 0;       // scored positions (as many records in save_logits)
  std::optional<KlStats> kl;   // with a base
  int64_t peak_rss_bytes = 0;  // of this process, at the end
  std::vector<std::string> warnings;  // the job went on (a ctx beyond the trained context)
};

// Every check that needs no model: Error(field, ...), or Error("text" /
// "base", "<path>: no such file or directory").
void validate_eval_request(const EvalRequest& request);

// Runs the request. An interrupt or a failure leaves no save_logits file.
EvalReport run_eval_job(const EvalRequest& request);

}  // namespace lmpack
