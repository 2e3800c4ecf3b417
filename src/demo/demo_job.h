// `lmpack demo` as one library call: with no model, a small Llama trained
// here on generated stories (demo/demo_corpus.h, demo/word_vocab.h: nothing
// is downloaded), then a short sweep on it (pipeline/sweep.h): three methods,
// four llama.cpp mixes and three size targets, measured on stories it never
// trained on; with a model, the same sweep on that model (on the generated
// stories, or on the user's text).
//
// DIR (default ./lmpack-demo) gets the texts, the trained model
// (demo-model.gguf, a normal GGUF that llama.cpp runs) and the sweep's
// results.json and report.html under DIR/report/.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "report/sweep_results.h"

namespace lmpack {

struct DemoRequest {
  std::string model;      // "" : train the demo model
  std::string tokenizer;  // with a model: a vocabulary from elsewhere
  std::string text;       // with a model: calibration and evaluation text ("" : the generated stories)
  std::string output = "lmpack-demo";
  int64_t train_steps = 400;  // the demo model's training
  std::vector<std::string> methods = {"rtn", "imatrix", "gptq"};  // the sweep's
  bool sweep = true;  // false: only make the demo model (and its texts)
  bool show_progress = true;
};

struct DemoReport {
  std::string model;  // the model swept
  bool trained = false;
  int64_t parameters = 0;
  int64_t train_steps = 0;
  int64_t train_tokens = 0;
  double first_loss = 0.0, last_loss = 0.0;
  double train_seconds = 0.0;
  SweepResults sweep;
  std::string report;  // report.html's path
  double seconds = 0.0;
};

// on_stage: a line for each stage as it starts ("training the demo model");
// on_run: each sweep run as it finishes. Errors name the field ("model",
// "text", "output", "train_steps", "methods") or the file, before any work.
DemoReport run_demo(const DemoRequest& request, const std::function<void(const std::string&)>& on_stage = {},
                    const std::function<void(const SweepRun&)>& on_run = {});

}  // namespace lmpack
