// `lmpack train` as one library call: train a Llama-family model on text
// (next-token cross-entropy), from scratch or from a checkpoint, and write it
// as a GGUF or a Hugging Face folder. The loop, its options, saves and
// resume: train/training_loop.h.
#pragma once

#include <functional>
#include <string>

#include "train/training_loop.h"

namespace lmpack {

struct TrainRequest {
  // What to train: exactly one of
  std::string model;   // a checkpoint whose weights training continues from
  std::string like;    // a checkpoint whose shape a fresh model takes
  std::string config;  // a Hugging Face config.json for a fresh model
  std::string tokenizer;  // vocabulary ("": the checkpoint's own; required with `config`)
  TrainingOptions training;
};

// A fresh model starts as train/init.h says. on_step (may be empty) is called
// after every step. Errors name the field ("data", "seq", "resume", ...) or
// the file.
TrainReport run_train_job(const TrainRequest& request, const std::function<void(const TrainStepLog&)>& on_step = {});

}  // namespace lmpack
