// One compression job behind one request (`lmpack compress`, and the one-step
// spellings `lmpack quantize` and `lmpack prune`): a model, a list of steps,
// one output. Each step is a whole-model pass over the result of the step
// before it:
//   structured   remove attention heads, FFN channels, blocks
//                (pipeline/structured_prune.h);
//   prune        magnitude, Wanda or SparseGPT masks on every block linear
//                (the calibration engine, pipeline/sequential_calibration.h);
//   quantize     RTN, GPTQ, AWQ or AWQ+GPTQ onto the step's grids: a GGUF
//                type or llama.cpp mix, a GGUF size target (a type per
//                tensor, allocated), or integer groups for a GPTQ/AWQ folder;
//   distill      the model so far, as a student, learns the job's input model
//                (the teacher) on text (pipeline/distill_job.h): after a cut it
//                wins back what the cut lost (Minitron), and as the last step
//                with a GGUF type it trains on that type's grids (a quantized
//                student, starting from the step before it).
// A step's result is written in the step's target (the output's format for
// the last step; F32 GGUF for the steps before it, in a temporary folder
// beside the output that is removed on every exit), so that running the
// steps as separate commands, each on the file the one before wrote, gives
// the same bytes. Calibration text is cut into token windows once, with the
// model's tokenizer, and every step that needs it sees the same windows.
// The steps that made a file travel in it: GGUF key lmpack.recipe holds a
// JSON array of the steps, those read from the input's own lmpack.recipe
// first.
// Errors name the request's field ("steps[2].pattern", "calibration.files",
// "output"), never a command-line flag: the CLI maps fields to its flags.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "methods/sparsity.h"
#include "model/checkpoint.h"
#include "pipeline/calibration_recipe.h"
#include "pipeline/calibration_source.h"
#include "pipeline/distill_job.h"
#include "pipeline/export_int_hf.h"
#include "pipeline/gguf_quantize.h"
#include "pipeline/sequential_calibration.h"
#include "pipeline/size_target.h"
#include "pipeline/structured_prune.h"

namespace lmpack {

enum class StepKind { kStructured, kPrune, kQuantize, kDistill };

// A distill step: the teacher ("": the job's input model), the text
// (training.data; empty: the job's calibration files), the training run and
// the loss. training.output and show_progress are the job's.
struct DistillStep {
  std::string teacher;
  TrainingOptions training;
  float temperature = 1.0f;
  float alpha = 1.0f;
  float hidden_weight = 0.0f;
  std::string teacher_cache;
  int64_t cache_top_k = 32;
};

struct CompressStep {
  StepKind kind = StepKind::kQuantize;
  // kStructured
  StructuredPruneOptions structure;
  // kPrune
  PruneMethod prune = PruneMethod::kMagnitude;
  SparsityPattern pattern;
  // kQuantize
  RoundingMethod rounding = RoundingMethod::kRtn;
  bool awq = false;
  bool awq_clip = false;
  int awq_grid = 20;
  bool act_order = false;  // integer groups only
  // kDistill
  DistillStep distill;
  // kPrune (SparseGPT) and kQuantize (GPTQ)
  double damp = 0.01;
  int64_t block_size = 128;
  // A mixture of experts: the fewest routed tokens an expert is calibrated
  // on alone (pipeline/calibration_recipe.h).
  int64_t min_expert_tokens = kMinExpertTokens;
  // The step's target. GGUF: `gguf.type_name` a mix or tensor type (empty:
  // F32), with its overrides and imatrix (a distill step: the grids of its
  // quantized student, pipeline/gguf_student_grid.h); a GPTQ/AWQ folder: `int_export`
  // (the last step only; its damp and act_order are the step's); a Hugging
  // Face float folder: `hf_dtype`.
  QuantizeOptions gguf;
  // A size target instead of a type (the last step, GGUF output): each
  // matrix gets the type that a measured sensitivity and a knapsack choose
  // (pipeline/size_target.h); needs calibration text.
  SizeTarget target;
  std::optional<IntExportSpec> int_export;
  DType hf_dtype = DType::F32;
};

struct CompressRequest {
  std::string model;      // GGUF file, llama2.c .bin, Hugging Face folder
  std::string tokenizer;  // a vocabulary from elsewhere ("" : the model's)
  std::string output;     // a .gguf file, else a folder (GPTQ/AWQ or float)
  CalibrationSource calibration;
  std::vector<CompressStep> steps;
  std::string model_name;  // general.name ("" : from the input)
  bool show_progress = true;
};

struct StepReport {
  std::string description;  // the step as lmpack.recipe records it (JSON)
  int64_t parameters_before = 0, parameters_after = 0;
  std::vector<LayerError> layers;             // the calibration engine's, per linear
  std::optional<StructuredPruneReport> structure;
  std::optional<DistillReport> distill;
  std::optional<IntExportReport> int_export;  // a GPTQ/AWQ/compressed-tensors folder: its layout
  std::optional<SizeAllocation> allocation;   // a size target: what it chose and why
  ModelConfig config;  // the model after the step
  int64_t calibration_tokens = 0;
  double seconds = 0.0;
};

struct CompressReport {
  std::vector<StepReport> steps;
  std::optional<QuantizeReport> gguf;  // the GGUF writer's report (GGUF output)
  std::string recipe;                  // lmpack.recipe as written
  std::vector<std::string> warnings;   // the job went on (e.g. windows beyond the trained context)
  uint64_t file_bytes = 0;             // the output file, or the folder's files
  double seconds = 0.0;
};

// Every check that needs no model, before anything is read: Error(field, ...).
void validate_compress_request(const CompressRequest& request);

// Runs the request. Throws Error(field or file, ...); an interrupt or a
// failure leaves no output (or the old one) and no temporary.
CompressReport compress(const CompressRequest& request);

// The JSON a step is recorded as in lmpack.recipe (keys sorted, no spaces).
std::string describe_step(const CompressStep& step, const CalibrationSource& calibration);

}  // namespace lmpack
