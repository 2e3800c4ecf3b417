// `lmpack train` as one library call: train a Llama-family model on text,
// from scratch or from a checkpoint, and write it as a GGUF or a Hugging
// Face folder.
//
// Each step: grad_accum batches of batch x seq tokens drawn from the text
// (train/token_stream.h), next-token cross-entropy, backward, the global
// gradient-norm clip, AdamW at the step's rate (linear warmup, cosine to
// min_lr). Every save_every steps and at the end the model and the training
// state (parameters, AdamW moments, step, and what defines the run) are
// written, each atomically; `resume` continues from the state file and gives
// the bits an uninterrupted run would have given (same threads).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "train/optimizer.h"

namespace lmpack {

struct TrainRequest {
  // What to train: exactly one of
  std::string model;   // a checkpoint whose weights training continues from
  std::string like;    // a checkpoint whose shape a fresh model takes
  std::string config;  // a Hugging Face config.json for a fresh model
  std::string tokenizer;  // vocabulary ("": the checkpoint's own; required with `config`)

  std::vector<std::string> data;                // text files
  std::string doc_separator = "<|endoftext|>";  // "" : a file is one document

  int64_t batch = 8;
  int64_t seq = 0;  // tokens per sequence (0: the model's context, at most 256)
  int64_t steps = 1000;
  int64_t grad_accum = 1;
  float lr = 1e-3f;
  float min_lr = 1e-4f;
  std::optional<int64_t> warmup;  // steps (default: steps / 20)
  AdamWOptions adamw;
  double clip = 1.0;  // max gradient norm (0: none)
  uint64_t seed = 0;  // initialisation and batches

  std::string output;         // *.gguf, or a folder (Hugging Face layout)
  std::string output_type = "f32";  // f32, f16 or bf16
  std::string state;          // the training state file ("": OUTPUT.train-state)
  int64_t save_every = 0;     // steps between saves (0: at the end only)
  bool resume = false;        // continue from `state`
  bool show_progress = false;
};

struct TrainStepLog {
  int64_t step = 0;        // 1-based, the step just done
  double loss = 0.0;       // mean cross-entropy of its batches (nats/token)
  float lr = 0.0f;
  double grad_norm = 0.0;  // before clipping
  double tokens_per_s = 0.0;
  double seconds = 0.0;    // since the job started
};

struct TrainReport {
  int64_t parameters = 0;
  int64_t data_tokens = 0;  // the tokenized text
  int64_t first_step = 0;   // 0, or the step a resumed run started from
  int64_t steps = 0;        // the step count reached
  int64_t tokens_trained = 0;  // in this session
  double final_loss = 0.0;     // the last step's
  double seconds = 0.0;
  double tokens_per_s = 0.0;
  int64_t peak_rss_bytes = 0;
  size_t activation_bytes = 0;
  std::string output, state;
  std::vector<std::string> warnings;
};

// on_step (may be empty) is called after every step. Errors name the field
// ("data", "seq", "resume", ...) or the file.
TrainReport run_train_job(const TrainRequest& request, const std::function<void(const TrainStepLog&)>& on_step = {});

}  // namespace lmpack
