// `lmpack distill` as one library call: a student learns a teacher's
// next-token distributions on text (knowledge distillation, Hinton et al.
// 2015), through the training loop of train/training_loop.h.
//
// The student is a model file (its weights), a fresh model from a
// config.json (train/init.h), or the teacher itself cut by structured
// pruning (pipeline/structured_prune.h: heads, FFN width, blocks; scored
// on windows of the training text) — Minitron's prune-then-distill
// (Muralidharan et al., "Compact Language Models via Pruning and Knowledge
// Distillation", 2024) in one call. The teacher runs in lmpack's runtime in
// the format it is stored in (a quantized teacher runs quantized), one
// forward per sequence of every batch.
//
// The text is `training.data`, or sequences sampled from the teacher
// (`teacher_samples`). Loss per batch: alpha * T^2 KL(teacher_T || student_T) (train/losses.h
// distillation_kl) + (1 - alpha) * next-token cross-entropy on the text.
// Teacher and student must share the vocabulary.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "pipeline/structured_prune.h"
#include "train/training_loop.h"

namespace lmpack {

struct DistillRequest {
  std::string teacher;
  std::string tokenizer;  // vocabulary ("": the teacher's own)
  // The student: exactly one of
  std::string student;         // a model file whose weights training continues from
  std::string student_config;  // a Hugging Face config.json for a fresh model
  std::optional<StructuredPruneOptions> student_prune;  // the teacher, cut
  int64_t prune_windows = 32;  // windows of the text that score the cut (seq tokens each)

  // > 0: the text is this many sequences sampled from the teacher (from
  // BOS, temperature 1, no nucleus cut, until EOS or `seq` tokens; sequence i
  // seeded by seed + i), and `data` must be empty — no data set needed.
  int64_t teacher_samples = 0;

  // A teacher cache file (train/teacher_cache.h): the teacher's top
  // `cache_top_k` tokens per position of every batch, written as the run goes
  // and read back by runs with the same teacher, text, seed, batch and seq
  // (several students: the teacher runs once). With a cache the distillation
  // term compares against those top k (renormalised), whether read or fresh.
  std::string teacher_cache;
  int64_t cache_top_k = 32;

  float temperature = 1.0f;
  float alpha = 1.0f;  // weight of the distillation term; 1 - alpha on cross-entropy
  TrainingOptions training;
};

struct DistillReport {
  TrainReport training;
  int64_t teacher_parameters = 0;
  int64_t student_parameters = 0;
  std::string student_source;    // "file ...", "config ...", "pruned teacher"
  std::string prune_summary;     // the cut, when the student was pruned from the teacher
  int64_t sampled_tokens = 0;    // with teacher_samples: the text the teacher wrote
  int64_t cached_batches_read = 0, cached_batches_written = 0;  // with teacher_cache
};

DistillReport run_distill_job(const DistillRequest& request,
                              const std::function<void(const TrainStepLog&)>& on_step = {});

}  // namespace lmpack
