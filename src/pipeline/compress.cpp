// The compression job; see compress.h.
#include "pipeline/compress.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <set>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/output_path.h"
#include "core/stopwatch.h"
#include "core/temporaries.h"
#include "model/load_model.h"
#include "model/save_hf.h"
#include "pipeline/compressed_checkpoint.h"
#include "pipeline/gguf_mix.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

std::string field(size_t step, const char* name) { return cat("steps[", step, "].", name); }

const char* prune_name(PruneMethod m) {
  return m == PruneMethod::kMagnitude ? "magnitude" : m == PruneMethod::kWanda ? "wanda" : "sparsegpt";
}

std::string quantize_method_name(const CompressStep& s) {
  const bool gptq = s.rounding == RoundingMethod::kGptq;
  if (s.awq) return gptq ? "awq+gptq" : "awq";
  return gptq ? "gptq" : "rtn";
}

bool needs_calibration(const CompressStep& s) {
  switch (s.kind) {
    case StepKind::kStructured:
      return true;
    case StepKind::kPrune:
      return s.prune != PruneMethod::kMagnitude;
    case StepKind::kQuantize:
      return s.rounding == RoundingMethod::kGptq || s.awq || s.awq_clip || s.target.set();
    case StepKind::kDistill:
      return false;  // it trains on text, not on calibration windows
  }
  return false;
}

// Whether the calibration engine runs for a step (prune and quantize steps
// that need data, or that have data to measure errors with).
// A GPTQ/AWQ folder's integer grids exist only in the engine.
bool runs_engine(const CompressStep& s, bool have_windows) {
  if (s.kind == StepKind::kPrune) return true;
  return s.kind == StepKind::kQuantize && (needs_calibration(s) || have_windows || s.int_export);
}

// The calibration recipe of a prune or quantize step onto GGUF types or integer groups.
// `plan`: the GGUF writer's; nullptr for a float folder (the linears stay F32 in the engine, save_hf converts them).
CalibrationRecipe engine_recipe(const CompressStep& s, const Checkpoint& ckpt, const GgufTypePlan* plan,
                                std::shared_ptr<const ImportanceMatrix> imatrix, bool show_progress) {
  CalibrationRecipe r;
  r.damp = s.damp;
  r.min_expert_tokens = s.min_expert_tokens;
  r.block_size = s.block_size;
  r.importance = std::move(imatrix);
  r.show_progress = show_progress;
  if (s.kind == StepKind::kPrune) {
    r.prune = PruneSpec{s.prune, s.pattern};
  } else {
    r.rounding = s.rounding;
    r.awq = s.awq;
    r.awq_clip = s.awq_clip;
    r.awq_grid = s.awq_grid;
  }
  if (s.int_export) {
    IntGridSpec grid;
    grid.bits = s.int_export->bits;
    grid.symmetric = s.int_export->format != IntExportFormat::kAwq && s.int_export->symmetric;
    // GPTQ stores zero - 1: a zero of 0 cannot be written (grids/int_grid.h).
    if (s.int_export->format == IntExportFormat::kGptq && !grid.symmetric) grid.min_zero = 1;
    r.int_grid = grid;
    r.group_size = s.int_export->group_size;
    r.act_order = s.act_order;
  } else {
    const std::map<std::string, DType> types = plan != nullptr ? plan->types() : std::map<std::string, DType>{};
    for (int64_t l = 0; l < ckpt.config.n_layers; ++l)
      for (const std::string& n : block_linear_names(l, ckpt.config)) r.gguf_types[n] = plan != nullptr ? types.at(n) : DType::F32;
  }
  return r;
}

uint64_t folder_bytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file()) total += entry.file_size();
  return total;
}

// The steps before `input` made it (its lmpack.recipe), then these.
std::string recipe_json(const Checkpoint& input, const std::vector<std::string>& steps) {
  nlohmann::json a = nlohmann::json::array();
  if (!input.recipe.empty()) {
    nlohmann::json before = nlohmann::json::parse(input.recipe, nullptr, false);
    if (before.is_array()) a = before;
  }
  for (const std::string& s : steps) a.push_back(nlohmann::json::parse(s));
  return a.dump();
}

// Runs one step on `ckpt` and writes its result to `out` (GGUF, or a
// folder when the step's target is one).
StepReport run_step(const CompressRequest& req, size_t index, const Checkpoint& ckpt,
                    const std::vector<std::vector<int32_t>>& windows, const std::string& out, bool last,
                    const std::string& recipe, CompressReport& report) {
  const CompressStep& s = req.steps[index];
  Stopwatch clock;
  StepReport sr;
  sr.description = describe_step(s, req.calibration);
  sr.parameters_before = ckpt.parameter_count();
  const bool gguf_out = !last || is_gguf_path(out);
  // The GGUF target: the step's, or F32 for a step before the last.
  QuantizeOptions q = last ? s.gguf : QuantizeOptions{};
  const bool allocating = last && s.target.set();
  if (!allocating && (!last || q.type_name.empty())) {
    q.type_name = last && !gguf_out ? std::string(dtype_name(s.hf_dtype)) : "f32";
    q.pure = true;
  }
  // Every step names the output after the job's input, not after the step's
  // temporary file.
  q.model_name = req.model_name.empty() ? default_model_name(req.model) : req.model_name;
  q.show_progress = req.show_progress;
  q.recipe = recipe;

  if (s.kind == StepKind::kDistill) {
    DistillRequest d;
    d.teacher = s.distill.teacher.empty() ? req.model : s.distill.teacher;
    d.tokenizer = req.tokenizer;
    d.student = ckpt.path;  // the job's input, or the file the step before wrote
    d.training = s.distill.training;
    if (d.training.data.empty()) d.training.data = req.calibration.files;
    d.training.output = out;
    d.training.show_progress = req.show_progress;
    d.training.model_name = q.model_name;  // not the step's temporary student file's
    d.temperature = s.distill.temperature;
    d.alpha = s.distill.alpha;
    d.hidden_weight = s.distill.hidden_weight;
    d.teacher_cache = s.distill.teacher_cache;
    d.cache_top_k = s.distill.cache_top_k;
    d.recipe = recipe;
    if (last && gguf_out && !s.gguf.type_name.empty()) {
      d.student_type = s.gguf.type_name;
      d.imatrix = s.gguf.imatrix_path;
    } else if (last && !gguf_out) {
      d.training.output_type = std::string(dtype_name(s.hf_dtype));
    }
    sr.distill = run_distill_job(d);
    report.file_bytes = gguf_out ? fs::file_size(out) : folder_bytes(out);
    fs::remove(d.training.output + ".train-state");  // the job writes one output
    sr.parameters_after = sr.distill->student_parameters;
    sr.config = ckpt.config;
    sr.seconds = clock.seconds();
    return sr;
  }

  const Checkpoint* source = &ckpt;
  Checkpoint structured;
  if (s.kind == StepKind::kStructured) {
    StructuredPruneResult res = structured_prune(ckpt, windows, s.structure);
    structured = std::move(res.checkpoint);
    sr.structure = std::move(res.report);
    source = &structured;
  }
  // The importance the output is encoded with, read once for everyone.
  if (!q.imatrix && !q.imatrix_path.empty()) q.imatrix = std::make_shared<const ImportanceMatrix>(read_imatrix(q.imatrix_path));
  if (allocating) sr.allocation = allocate_to_target(*source, windows, s.target, q);
  // The GGUF writer's type plan, made once: the engine compresses the block linears onto it.
  std::optional<GgufTypePlan> plan;
  if (gguf_out) plan = plan_gguf(*source, q);
  // An integer export's spec (the step's damp and act order) and its layout,
  // chosen before calibration so that a refused one fails fast.
  std::optional<IntExportSpec> spec;
  std::optional<IntExportReport> chosen;
  if (s.int_export) {
    spec = *s.int_export;
    spec->damp = s.damp;
    spec->act_order = s.act_order;
    spec->recipe = recipe;
    validate_int_export(*source, *spec);
    chosen = choose_int_export_layout(*source, *spec);
  }
  std::unique_ptr<SequentialCalibration> engine;
  if (runs_engine(s, !windows.empty())) {
    std::shared_ptr<const ImportanceMatrix> imatrix = q.imatrix;
    engine = std::make_unique<SequentialCalibration>(
        *source, windows, engine_recipe(s, *source, plan ? &*plan : nullptr, imatrix, req.show_progress));
  }
  if (spec) {
    LMPACK_CHECK(engine != nullptr, "an integer export without the engine");
    sr.int_export = save_int_quantized_hf(*source, out, *spec, *engine, &*chosen);
    report.file_bytes = folder_bytes(out);
  } else if (gguf_out) {
    QuantizeReport qr = quantize_to_gguf(*source, out, q, engine.get(), &*plan);
    report.file_bytes = qr.file_bytes;
    if (last) report.gguf = std::move(qr);
  } else {
    // Block linears come from the engine; the rest stays as it is.
    Checkpoint written = engine ? decode_compressed(*source, *engine, {}, {}) : *source;
    written.recipe = recipe;
    save_hf(written, out, s.hf_dtype);
    report.file_bytes = folder_bytes(out);
  }
  if (engine) {
    sr.layers = engine->layer_errors();
    sr.calibration_tokens = engine->calibration_tokens();
  }
  sr.parameters_after = source->parameter_count();
  sr.config = source->config;
  sr.seconds = clock.seconds();
  return sr;
}

}  // namespace

std::string describe_step(const CompressStep& s, const CalibrationSource& calibration) {
  nlohmann::json j;
  switch (s.kind) {
    case StepKind::kStructured:
      j["step"] = "structured";
      if (s.structure.heads) j["heads"] = s.structure.heads;
      if (s.structure.ffn_width) j["ffn_width"] = s.structure.ffn_width;
      if (s.structure.drop_blocks) j["drop_blocks"] = s.structure.drop_blocks;
      if (s.structure.drop_experts) j["drop_experts"] = s.structure.drop_experts;
      break;
    case StepKind::kPrune:
      j["step"] = "prune";
      j["method"] = prune_name(s.prune);
      if (s.pattern.is_n_m())
        j["pattern"] = cat(s.pattern.n, ":", s.pattern.m);
      else
        j["sparsity"] = s.pattern.sparsity;
      break;
    case StepKind::kQuantize:
      j["step"] = "quantize";
      j["method"] = quantize_method_name(s);
      if (s.awq_clip) j["awq_clip"] = true;
      if (s.act_order) j["act_order"] = true;
      break;
    case StepKind::kDistill: {
      const DistillStep& d = s.distill;
      const TrainingOptions& t = d.training;
      j["step"] = "distill";
      if (!d.teacher.empty()) j["teacher"] = fs::path(d.teacher).filename().string();
      nlohmann::json files = nlohmann::json::array();
      for (const std::string& f : t.data.empty() ? calibration.files : t.data)
        files.push_back(fs::path(f).filename().string());
      j["data"] = files;
      j["steps"] = t.steps;
      j["batch"] = t.batch;
      if (t.seq) j["seq"] = t.seq;
      if (t.grad_accum != 1) j["grad_accum"] = t.grad_accum;
      j["lr"] = t.lr;
      j["min_lr"] = t.min_lr;
      if (t.warmup) j["warmup"] = *t.warmup;
      if (t.seed) j["seed"] = t.seed;
      j["temperature"] = d.temperature;
      j["alpha"] = d.alpha;
      if (d.hidden_weight > 0.0f) j["hidden_weight"] = d.hidden_weight;
      break;
    }
  }
  if ((s.kind == StepKind::kQuantize && s.rounding == RoundingMethod::kGptq) ||
      (s.kind == StepKind::kPrune && s.prune == PruneMethod::kSparseGpt))
    j["damp"] = s.damp;
  if (s.min_expert_tokens != kMinExpertTokens) j["min_expert_tokens"] = s.min_expert_tokens;
  if (!s.gguf.type_name.empty()) j["type"] = s.gguf.type_name;
  if (s.target.bits_per_weight > 0.0) j["target_bpw"] = s.target.bits_per_weight;
  if (s.target.file_bytes > 0) j["target_size"] = s.target.file_bytes;
  if (s.target.set() && !s.target.sensitivity.types.empty()) {
    nlohmann::json t = nlohmann::json::array();
    for (DType type : s.target.sensitivity.types) t.push_back(std::string(dtype_name(type)));
    j["types"] = t;
  }
  if (s.int_export) {
    j["format"] = int_export_format_name(s.int_export->format);
    j["bits"] = s.int_export->bits;
    j["group_size"] = s.int_export->group_size;
    if (s.int_export->symmetric) j["sym"] = true;
    if (s.int_export->ct_layout != CtLayout::kAuto) j["ct_layout"] = ct_layout_name(s.int_export->ct_layout);
  }
  if (!s.gguf.tensor_types.empty()) {
    nlohmann::json t = nlohmann::json::array();
    for (const auto& [pattern, type] : s.gguf.tensor_types) t.push_back(pattern + "=" + type);
    j["tensor_types"] = t;
  }
  if (!s.gguf.imatrix_path.empty()) j["imatrix"] = fs::path(s.gguf.imatrix_path).filename().string();
  if (needs_calibration(s)) {
    nlohmann::json c;
    nlohmann::json files = nlohmann::json::array();
    for (const std::string& f : calibration.files) files.push_back(fs::path(f).filename().string());
    c["files"] = files;
    c["samples"] = calibration.samples;
    if (calibration.ctx) c["ctx"] = calibration.ctx;
    if (calibration.seed) c["seed"] = calibration.seed;
    if (calibration.consecutive) c["consecutive"] = true;
    j["calibration"] = c;
  }
  return j.dump();
}

void validate_compress_request(const CompressRequest& r) {
  if (r.model.empty()) throw Error("model", "no model given");
  if (r.output.empty()) throw Error("output", "no output given");
  if (r.steps.empty()) throw Error("steps", "a job needs at least one step");
  bool calibrated = false;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const CompressStep& s = r.steps[i];
    const bool last = i + 1 == r.steps.size();
    calibrated |= needs_calibration(s);
    if (s.kind == StepKind::kPrune) validate_sparsity_pattern(s.pattern);
    if (s.kind == StepKind::kDistill) {
      TrainingOptions t = s.distill.training;
      t.output = r.output;
      if (t.data.empty()) t.data = r.calibration.files;
      try {
        validate_training_options(t);
        validate_distill_loss(s.distill.temperature, s.distill.alpha, s.distill.hidden_weight,
                              !s.distill.teacher_cache.empty());
        if (t.data.empty()) throw Error("data", "a distill step needs text: its own data, or the job's calibration files");
      } catch (const Error& e) {
        throw Error(field(i, cat("distill.", e.where()).c_str()), e.problem());
      }
      if (s.int_export) throw Error(field(i, "format"), "a distill step writes GGUF or a float folder");
    }
    if (s.kind == StepKind::kStructured && s.structure.heads == 0 && s.structure.ffn_width == 0 &&
        s.structure.drop_blocks == 0 && s.structure.drop_experts == 0)
      throw Error(field(i, "structured"), "removes nothing: give heads, ffn_width, drop_blocks or drop_experts");
    if (!(s.damp >= 0.0 && s.damp < 10.0)) throw Error(field(i, "damp"), cat("must be in [0, 10), got ", s.damp));
    if (s.awq_grid < 1) throw Error(field(i, "awq_grid"), cat("must be >= 1, got ", s.awq_grid));
    if (s.int_export && !last)
      throw Error(field(i, "format"), "a GPTQ/AWQ folder can only be the last step's target");
    if (!last && !s.gguf.type_name.empty())
      throw Error(field(i, "type"), "only the last step has a target type (the steps before it keep F32)");
    if (s.int_export) {
      try {
        validate_int_export_spec(*s.int_export);
      } catch (const Error& e) {
        throw Error(field(i, e.where().c_str()), e.problem());
      }
    }
    if (s.int_export && is_gguf_path(r.output))
      throw Error("output", cat(r.output, " is a .gguf file; a GPTQ/AWQ export writes a folder"));
    if (last && !s.gguf.type_name.empty() && !is_gguf_path(r.output) && !s.int_export)
      throw Error("output", cat("a GGUF type (", s.gguf.type_name, ") needs a .gguf output"));
    if (s.act_order && !s.int_export)
      throw Error(field(i, "act_order"), "applies to integer groups (format gptq); GGUF blocks are swept in order");
    if (s.act_order && s.rounding != RoundingMethod::kGptq)
      throw Error(field(i, "act_order"), "applies to GPTQ only (method gptq or awq+gptq)");
    if (s.awq_clip && !s.int_export)
      throw Error(field(i, "awq_clip"), "the clipping search is for integer grids (format gptq/awq)");
    if (!s.gguf.type_name.empty()) parse_quantize_type(field(i, "type"), s.gguf.type_name);
    if (s.target.set()) {
      if (s.kind != StepKind::kQuantize || !last)
        throw Error(field(i, "target"), "a size target belongs to the last step, a quantize step");
      if (s.int_export || !is_gguf_path(r.output))
        throw Error(field(i, "target"), "a size target chooses GGUF types: the output must be a .gguf file");
      if (!s.gguf.type_name.empty())
        throw Error(field(i, "target"), cat("a size target chooses every type; give no type (got ", s.gguf.type_name, ")"));
      if (s.gguf.pure) throw Error(field(i, "target"), "a size target chooses every type; pure does not apply");
      try {
        validate_size_target(s.target);
      } catch (const Error& e) {
        throw Error(field(i, e.where() == "target" ? "target" : cat("target.", e.where()).c_str()), e.problem());
      }
    }
    for (const auto& [pattern, type] : s.gguf.tensor_types)
      make_tensor_type_override(field(i, "tensor_types"), pattern, type);
  }
  validate_calibration_source(r.calibration, calibrated);
}

CompressReport compress(const CompressRequest& req) {
  Stopwatch clock;
  // The output first: one that would replace an input is the worst mistake a
  // request can hold, whatever else is wrong with it.
  if (!req.output.empty() && !req.steps.empty()) {
    const bool folder = req.steps.back().int_export.has_value() || !is_gguf_path(req.output);
    std::vector<std::string> inputs = {req.model};
    if (!req.tokenizer.empty()) inputs.push_back(req.tokenizer);
    for (const CompressStep& s : req.steps) {
      if (!s.gguf.imatrix_path.empty()) inputs.push_back(s.gguf.imatrix_path);
      if (s.kind != StepKind::kDistill) continue;
      if (!s.distill.teacher.empty()) inputs.push_back(s.distill.teacher);
      inputs.insert(inputs.end(), s.distill.training.data.begin(), s.distill.training.data.end());
    }
    inputs.insert(inputs.end(), req.calibration.files.begin(), req.calibration.files.end());
    check_output_path(req.output, folder ? OutputKind::kFolder : OutputKind::kFile, inputs,
                      folder ? hf_output_files() : std::vector<std::string>{});
  }
  validate_compress_request(req);

  auto ckpt = std::make_unique<Checkpoint>(load_model(req.model, req.tokenizer));
  CompressReport report;
  std::vector<std::vector<int32_t>> windows;
  if (!req.calibration.files.empty()) {
    windows = calibration_windows_for(*ckpt, req.calibration, req.tokenizer.empty() ? req.model : req.tokenizer);
    const std::string warning = calibration_context_warning(*ckpt, req.calibration);
    if (!warning.empty()) report.warnings.push_back(warning);
  }

  // The steps before the last write F32 GGUF files into a temporary folder
  // beside the output (removed at the end, on an interrupt, or by the next
  // run's sweep when this one is killed).
  const std::string steps_dir_name = req.output + ".steps";
  std::string steps_dir;
  int steps_fd = -1;
  if (req.steps.size() > 1) {
    remove_stale_temporaries(steps_dir_name);
    steps_dir = temporary_path(steps_dir_name);
    steps_fd = create_temporary_folder(steps_dir, steps_dir_name);
  }
  struct StepsFolder {
    std::string dir;
    int fd;
    ~StepsFolder() {
      if (!dir.empty()) {
        if (fd >= 0) ::close(fd);
        remove_temporary(dir);
      }
    }
  } cleanup{steps_dir, steps_fd};

  std::vector<std::string> described;
  for (size_t i = 0; i < req.steps.size(); ++i) {
    throw_if_interrupted();
    const bool last = i + 1 == req.steps.size();
    const std::string out = last ? req.output : cat(steps_dir, "/step", i + 1, ".gguf");
    described.push_back(describe_step(req.steps[i], req.calibration));
    const std::string recipe = recipe_json(*ckpt, {described.back()});
    try {
      report.steps.push_back(run_step(req, i, *ckpt, windows, out, last, recipe, report));
    } catch (const Error& e) {
      // A value of this step that the library refused: name the step.
      static const std::set<std::string> kStepFields = {
          "pattern",         "sparsity",          "structure.heads", "structure.ffn_width", "structure.drop_blocks",
          "structure.drop_experts",
          "export.bits",     "export.format",     "export.group_size", "export.damp",       "export.ct_layout", "type", "target",
          "tensor_types",    "output_type",       "token_embedding_type", "awq_clip",        "importance",
          "min_expert_tokens"};
      if (kStepFields.count(e.where())) {
        const std::string where = cat("steps[", i, "].", e.where());
        if (const auto* t = dynamic_cast<const TargetBelowSmallest*>(&e))  // a sweep tells it apart
          throw TargetBelowSmallest(where, e.problem(), t->smallest_bits_per_weight);
        throw Error(where, e.problem());
      }
      throw;
    }
    if (!last) {
      // The next step reads what this one wrote, exactly as a separate command would.
      auto next = std::make_unique<Checkpoint>(load_checkpoint(out));
      ckpt = std::move(next);
    } else {
      report.recipe = recipe;
    }
  }
  report.seconds = clock.seconds();
  return report;
}

}  // namespace lmpack
