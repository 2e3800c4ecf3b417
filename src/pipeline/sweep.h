// A size-vs-quality sweep (`lmpack sweep`): one model compressed many ways,
// each file measured against the model itself on the same text, and the
// results written as DIR/results.json and DIR/report.html
// (report/sweep_results.h, report/report_html.h).
//
// Runs: for every method (rtn: plain round-to-nearest; imatrix: RTN weighted
// by an importance matrix of the calibration text; gptq: GPTQ with that
// importance), every llama.cpp mix asked for and every bits-per-weight target
// (pipeline/size_target.h). Each run is one `compress` job (pipeline/
// compress.h) with the calibration text, so its per-layer errors come from
// the calibration engine, then one `eval` job against the base model's saved
// log-probabilities (KL divergence, top-1 agreement, perplexity).
//
// DIR keeps imatrix.gguf and the sensitivity caches (sensitivity-rtn.json,
// sensitivity-imatrix.json), which a second sweep of the same model, text and
// options reads back; the compressed files are removed after their
// evaluation unless keep_models (then DIR/models/NAME.gguf). results.json and
// report.html are written atomically, after every run; an interrupt stops
// between runs and leaves the last complete pair.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/calibration_source.h"
#include "pipeline/tensor_sensitivity.h"
#include "report/sweep_results.h"

namespace lmpack {

// Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K Q8_0.
std::vector<std::string> default_sweep_mixes();
// rtn imatrix gptq.
std::vector<std::string> default_sweep_methods();

struct SweepRequest {
  std::string model;
  std::string tokenizer;           // "" : the model's vocabulary
  CalibrationSource calibration;   // required
  std::string eval_text;           // required
  std::optional<int64_t> eval_ctx;
  std::optional<std::string> eval_doc_separator;
  std::optional<int64_t> eval_max_docs;
  std::optional<int64_t> eval_chunks;
  std::vector<std::string> methods;  // empty: default_sweep_methods()
  // The llama.cpp mixes (unset: default_sweep_mixes(), the reference points
  // of the report; empty: none) and the bits-per-weight targets.
  std::optional<std::vector<std::string>> mixes;
  std::vector<double> targets;
  SensitivityOptions sensitivity;  // for the targets (types, probe, max_tokens)
  std::string output;             // the folder
  bool keep_models = false;
  bool show_progress = true;
};

// "A:B" or "A:B:STEP" (default step 0.5): A, A+STEP, ... up to B inclusive.
// Error(option, ...) for anything else, A > B, STEP <= 0, or over 64 values.
std::vector<double> parse_bpw_range(const std::string& option, const std::string& text);

// Every check that needs no model: Error(field, ...) with fields "methods",
// "mixes", "targets", "eval.text", "output", "calibration.files", ...
void validate_sweep_request(const SweepRequest& request);

// Runs the sweep; `on_run` (optional) sees each run as it finishes, and
// `on_skip` each run left out: a size target below the smallest model the
// candidate types make is recorded in SweepResults::skipped (results.json
// "skipped", a note in report.html) and the sweep goes on.
SweepResults run_sweep(const SweepRequest& request, const std::function<void(const SweepRun&)>& on_run = {},
                       const std::function<void(const SweepSkip&)>& on_skip = {});

}  // namespace lmpack
