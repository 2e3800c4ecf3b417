// run_sweep; see sweep.h.
#include "pipeline/sweep.h"

#include <cmath>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/output_path.h"
#include "core/parallel.h"
#include "core/stopwatch.h"
#include "eval/calibration.h"
#include "eval/eval_job.h"
#include "model/load_model.h"
#include "pipeline/compress.h"
#include "pipeline/gguf_mix.h"
#include "pipeline/imatrix_job.h"
#include "pipeline/size_target.h"
#include "report/report_html.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;

// What the folder may hold: what a sweep writes there.
const std::vector<std::string>& sweep_files() {
  static const std::vector<std::string> kFiles = {"results.json", "report.html",  "imatrix.gguf", "base.logits",
                                                  "models",       "sensitivity-rtn.json", "sensitivity-imatrix.json"};
  return kFiles;
}

bool uses_imatrix(const std::string& method) { return method == "imatrix" || method == "gptq"; }

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string target_text(double bpw) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", bpw);
  return buf;
}

EvalRequest eval_request(const SweepRequest& r, const std::string& model) {
  EvalRequest e;
  e.model = model;
  e.tokenizer = r.tokenizer;
  e.text = r.eval_text;
  e.ctx = r.eval_ctx;
  e.doc_separator = r.eval_doc_separator;
  e.max_docs = r.eval_max_docs;
  e.chunks = r.eval_chunks;
  return e;
}

std::string eval_cut(const SweepRequest& r, const EvalReport& e) {
  std::string cut = e.documents ? cat("documents split on '", *r.eval_doc_separator, "'") : std::string("windows");
  if (e.documents && r.eval_max_docs && *r.eval_max_docs > 0) cut += cat(", the first ", *r.eval_max_docs);
  if (!e.documents && r.eval_chunks && *r.eval_chunks > 0) cut += cat(", the first ", *r.eval_chunks);
  return cat(cut, ", ctx ", e.ctx);
}

// An evaluation field's error under the sweep's name for it ("eval.ctx").
EvalReport eval_as_sweep(const EvalRequest& e) {
  try {
    return run_eval_job(e);
  } catch (const Error& err) {
    for (const char* f : {"ctx", "chunks", "doc_separator", "max_docs", "text"})
      if (err.where() == f) throw Error(cat("eval.", f), err.problem());
    throw;
  }
}

}  // namespace

std::vector<std::string> default_sweep_mixes() {
  return {"Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "Q8_0"};
}

std::vector<std::string> default_sweep_methods() { return {"rtn", "imatrix", "gptq"}; }

std::vector<double> parse_bpw_range(const std::string& option, const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return Error(option, cat("'", text, "': ", why, " (A:B or A:B:STEP bits per weight, e.g. 3:5:0.5)"));
  };
  std::vector<double> parts;
  size_t at = 0;
  while (true) {
    const size_t colon = text.find(':', at);
    const std::string word = text.substr(at, colon == std::string::npos ? std::string::npos : colon - at);
    size_t used = 0;
    double v = 0.0;
    try {
      v = std::stod(word, &used);
    } catch (const std::exception&) {
      throw bad("not a number: '" + word + "'");
    }
    if (used != word.size() || !std::isfinite(v)) throw bad("not a number: '" + word + "'");
    parts.push_back(v);
    if (colon == std::string::npos) break;
    at = colon + 1;
  }
  if (parts.size() < 2 || parts.size() > 3) throw bad("give two or three numbers");
  const double a = parts[0], b = parts[1], step = parts.size() == 3 ? parts[2] : 0.5;
  if (!(a > 0.0) || b > 32.0) throw bad("bits per weight must be in (0, 32]");
  if (a > b) throw bad("the range is empty");
  if (!(step > 0.0)) throw bad("the step must be above 0");
  std::vector<double> out;
  for (int i = 0;; ++i) {
    const double v = a + step * i;
    if (v > b + 1e-9) break;
    if (out.size() == 64) throw bad("more than 64 targets");
    out.push_back(std::round(v * 1e6) / 1e6);
  }
  return out;
}

void validate_sweep_request(const SweepRequest& r) {
  if (r.model.empty()) throw Error("model", "no model given");
  if (r.output.empty()) throw Error("output", "no output folder given");
  if (is_gguf_path(r.output)) throw Error("output", cat(r.output, " is a .gguf name; a sweep writes a folder"));
  if (r.eval_text.empty()) throw Error("eval.text", "a sweep needs text to evaluate on");
  std::error_code ec;
  if (!fs::exists(r.eval_text, ec)) throw Error("eval.text", cat(r.eval_text, ": no such file or directory"));
  for (const std::string& m : r.methods.empty() ? default_sweep_methods() : r.methods)
    if (m != "rtn" && m != "imatrix" && m != "gptq")
      throw Error("methods", cat("unknown method '", m, "' (valid: rtn, imatrix, gptq)"));
  if (r.mixes && r.mixes->empty() && r.targets.empty()) throw Error("mixes", "no mixes and no targets: nothing to run");
  for (const std::string& m : r.mixes.value_or(std::vector<std::string>{})) {
    const QuantizeType t = parse_quantize_type("mixes", m);
    if (!t.is_mix) throw Error("mixes", cat("'", m, "' is a tensor type; give a llama.cpp mix (", valid_mix_names(), ")"));
  }
  for (double t : r.targets)
    if (!(t > 0.0 && t <= 32.0)) throw Error("targets", cat("bits per weight must be in (0, 32], got ", t));
  if (!r.targets.empty()) resolved_sensitivity_options(r.sensitivity);
  validate_calibration_source(r.calibration, true);
  const EvalRequest e = eval_request(r, r.model);
  try {
    validate_eval_request(e);
  } catch (const Error& err) {
    throw Error(cat("eval.", err.where()), err.problem());
  }
}

SweepResults run_sweep(const SweepRequest& r, const std::function<void(const SweepRun&)>& on_run,
                       const std::function<void(const SweepSkip&)>& on_skip) {
  Stopwatch clock;
  std::vector<std::string> inputs = {r.model, r.eval_text};
  if (!r.tokenizer.empty()) inputs.push_back(r.tokenizer);
  inputs.insert(inputs.end(), r.calibration.files.begin(), r.calibration.files.end());
  check_output_path(r.output, OutputKind::kFolder, inputs, sweep_files());
  validate_sweep_request(r);
  const std::vector<std::string> methods = r.methods.empty() ? default_sweep_methods() : r.methods;
  const std::vector<std::string> mixes = r.mixes.value_or(default_sweep_mixes());

  SweepResults res;
  {
    const Checkpoint ckpt = load_model(r.model, r.tokenizer);
    SweepModelInfo& m = res.model;
    m.name = default_model_name(r.model);
    m.path = r.model;
    m.architecture = ckpt.config.architecture;
    m.parameters = ckpt.parameter_count();
    m.layers = ckpt.config.n_layers;
    m.dim = ckpt.config.dim;
    m.hidden_dim = ckpt.config.hidden_dim;
    m.heads = ckpt.config.n_heads;
    m.kv_heads = ckpt.config.n_kv_heads;
    m.vocab = ckpt.config.vocab_size;
    m.context = ckpt.config.context_length;
    m.input_bytes = ckpt.tensor_bytes();
    res.calibration_ctx = r.calibration.ctx ? r.calibration.ctx : default_calibration_ctx(ckpt.config.context_length);
  }
  res.calibration = r.calibration.files;
  res.calibration_windows = r.calibration.samples;
  res.eval_text = r.eval_text;
  res.threads = num_threads();
  res.created = now_utc();
  fs::create_directories(r.output);
  const std::string dir = r.output;
  const auto save = [&] {
    res.seconds = clock.seconds();
    write_file_atomically(dir + "/results.json", sweep_results_json(res).dump(1) + "\n");
    write_file_atomically(dir + "/report.html", sweep_report_html(res));
  };

  // The base model's log-probabilities, once.
  const std::string base = dir + "/base.logits";
  EvalRequest be = eval_request(r, r.model);
  be.save_logits = base;
  const EvalReport base_report = eval_as_sweep(be);
  res.base_perplexity = base_report.result.perplexity;
  res.eval_tokens = base_report.positions;
  res.eval_cut = eval_cut(r, base_report);

  std::string imatrix;
  for (const std::string& m : methods)
    if (uses_imatrix(m) && imatrix.empty()) {
      imatrix = dir + "/imatrix.gguf";
      ImatrixRequest ir;
      ir.model = r.model;
      ir.tokenizer = r.tokenizer;
      ir.calibration = r.calibration;
      ir.output = imatrix;
      ir.show_progress = r.show_progress;
      run_imatrix_job(ir);
    }

  const std::string models = dir + "/models";
  fs::create_directories(models);
  struct Plan {
    std::string method, kind, setting;
    double target = 0.0;
  };
  std::vector<Plan> plans;
  for (const std::string& m : methods) {
    for (const std::string& mix : mixes) plans.push_back({m, "mix", parse_quantize_type("mixes", mix).name, 0.0});
    for (double t : r.targets) plans.push_back({m, "target", target_text(t), t});
  }
  for (const Plan& p : plans) {
    throw_if_interrupted();
    SweepRun run;
    run.method = p.method;
    run.kind = p.kind;
    run.setting = p.setting;
    run.name = p.method + " " + (p.kind == "mix" ? p.setting : p.setting + " bpw");
    std::string file = run.name;
    for (char& c : file)
      if (c == ' ') c = '-';
    const std::string out = models + "/" + file + ".gguf";

    CompressRequest cr;
    cr.model = r.model;
    cr.tokenizer = r.tokenizer;
    cr.output = out;
    cr.calibration = r.calibration;
    cr.show_progress = r.show_progress;
    CompressStep s;
    s.kind = StepKind::kQuantize;
    s.rounding = p.method == "gptq" ? RoundingMethod::kGptq : RoundingMethod::kRtn;
    if (uses_imatrix(p.method)) s.gguf.imatrix_path = imatrix;
    if (p.kind == "mix") {
      s.gguf.type_name = p.setting;
    } else {
      s.target.bits_per_weight = p.target;
      s.target.sensitivity = r.sensitivity;
      s.target.cache = dir + (uses_imatrix(p.method) ? "/sensitivity-imatrix.json" : "/sensitivity-rtn.json");
    }
    cr.steps = {s};
    CompressReport c;
    try {
      c = compress(cr);
    } catch (const TargetBelowSmallest& e) {  // the other targets still run
      res.skipped.push_back({run.name, e.problem()});
      save();
      if (on_skip) on_skip(res.skipped.back());
      continue;
    }
    run.seconds = c.seconds;
    run.file_bytes = c.file_bytes;
    run.tensor_bytes = c.gguf->output_bytes;
    run.bits_per_weight = c.gguf->parameters ? 8.0 * static_cast<double>(c.gguf->output_bytes) /
                                                   static_cast<double>(c.gguf->parameters)
                                             : 0.0;
    if (c.steps.front().allocation) run.predicted_kl = c.steps.front().allocation->predicted_kl;
    for (const LayerError& e : c.steps.front().layers)
      if (!std::isnan(e.relative_error)) run.layers.push_back({e.name, e.grid, e.relative_error});

    Stopwatch eval_clock;
    EvalRequest er = eval_request(r, out);
    er.base = base;
    const EvalReport e = eval_as_sweep(er);
    run.eval_seconds = eval_clock.seconds();
    run.perplexity = e.result.perplexity;
    run.kl_mean = e.kl->kl_mean;
    run.kl_p99 = e.kl->kl_p99;
    run.top1 = e.kl->top1_agreement;
    if (!r.keep_models) fs::remove(out);
    res.runs.push_back(run);
    save();
    if (on_run) on_run(res.runs.back());
  }
  if (!r.keep_models) {
    std::error_code ec;
    fs::remove(models, ec);  // only when empty
  }
  fs::remove(base);
  save();
  return res;
}

}  // namespace lmpack
