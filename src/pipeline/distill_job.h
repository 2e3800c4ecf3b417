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
// distillation_kl) + (1 - alpha) * next-token cross-entropy on the text,
// + hidden_weight * the mean over the student's blocks of the distance of its
// residual stream to the teacher's at the matching block
// (hidden_state_distance; hidden_state_layers says which), where the widths
// agree. Teacher and student must share the vocabulary.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

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

  // Distillation into a quantized student: "" trains it in fp32 (written as
  // training.output_type); a GGUF type (a mix such as "Q2_K" or "Q3_K_M", or
  // one tensor type) holds its weights on that type's grids while it trains
  // (pipeline/gguf_student_grid.h) and writes a GGUF of that type. Start it
  // from the best file of the type (`student`: GPTQ with an imatrix).
  std::string student_type;
  std::string imatrix;  // importance for the type's scale search ("": none)

  float temperature = 1.0f;
  float alpha = 1.0f;  // weight of the distillation term; 1 - alpha on cross-entropy
  // > 0: hidden-state matching, with this weight (the student's width must be
  // the teacher's; needs the teacher's states of every batch: no teacher_cache).
  float hidden_weight = 0.0f;
  // lmpack.recipe of the output (the compression job's steps, pipeline/compress.h;
  // "": none).
  std::string recipe;
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
  std::string hidden_layers;  // with hidden_weight: "student block -> teacher block" pairs
  std::string student_grid;   // with student_type: the types held, "q2_K x37, q4_K x6, ..."
  double start_grid_share = 0.0;  // with student_type: blocks still on the student file's grid at the end
  std::vector<std::string> warnings;
};

// Which teacher block's output each student block's output is compared with
// (hidden-state matching). A student pruned from the teacher by dropping
// blocks (`dropped`, teacher indices) matches where its blocks came from:
// student block i against the teacher's output just before the next kept
// block (so the input of each kept block is matched), the last against the
// teacher's last. Otherwise the blocks are spread evenly: student block i
// against teacher block (i + 1) * teacher_layers / student_layers - 1 (at
// least 0: a deeper student matches some teacher blocks from several blocks).
std::vector<int64_t> hidden_state_layers(int64_t student_layers, int64_t teacher_layers,
                                         const std::vector<int64_t>& dropped = {});

// The loss's settings, checked where they are written (a request, a recipe's
// distill step): Error("temperature" / "alpha" / "hidden_weight", ...).
void validate_distill_loss(float temperature, float alpha, float hidden_weight, bool teacher_cache);

DistillReport run_distill_job(const DistillRequest& request,
                              const std::function<void(const TrainStepLog&)>& on_step = {});

}  // namespace lmpack
