// `lmpack quantize MODEL OUT.gguf TYPE`: writes any model lmpack reads as a
// GGUF file at a llama.cpp mix (Q4_K_M, ...) or one tensor type, then prints
// a summary: per chosen tensor type the count, bits per weight and bytes; the
// total and its ratio to the input (--json: the same as one JSON object).
// --method gptq|awq|awq+gptq (with --calib) runs the sequential calibration
// pipeline (pipeline/sequential_calibration.h) and reports each layer's
// relative output error on the calibration set. --format gptq|awq writes a
// Hugging Face folder with integer group-quantized linears instead
// (pipeline/export_int_hf.h; --bits, --group-size, --sym, --act-order).
#include <algorithm>
#include <cmath>
#include <memory>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_calibration.h"
#include "cli_common.h"
#include "cli_output.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "formats/format_sizes.h"
#include "io/imatrix.h"
#include "pipeline/export_int_hf.h"
#include "pipeline/gguf_mix.h"
#include "pipeline/gguf_quantize.h"
#include "pipeline/sequential_calibration.h"

namespace lmpack::cli {
namespace {

struct QuantizeCliOptions {
  std::string model;
  std::string out;
  std::string type;
  std::vector<std::string> tensor_types;
  std::string output_type;
  std::string token_embedding_type;
  bool pure = false;
  std::string imatrix;
  std::string tokenizer;
  std::string name;
  bool json = false;
  std::string method = "rtn";
  std::string format = "gguf";
  int bits = 4;
  int64_t group_size = 128;
  bool sym = false;
  bool act_order = false;
  double damp = 0.01;
  bool awq_clip = false;
  int awq_grid = 20;
  CalibCliOptions calib;
};

struct MethodChoice {
  RoundingMethod rounding = RoundingMethod::kRtn;
  bool awq = false;
};

MethodChoice parse_method(const std::string& m) {
  if (m == "rtn") return {RoundingMethod::kRtn, false};
  if (m == "gptq") return {RoundingMethod::kGptq, false};
  if (m == "awq") return {RoundingMethod::kRtn, true};
  if (m == "awq+gptq" || m == "gptq+awq") return {RoundingMethod::kGptq, true};
  throw Error("--method", cat("must be rtn, gptq, awq or awq+gptq, got '", m, "'"));
}

void print_layer_errors(const std::vector<LayerError>& errors) {
  if (errors.empty() || std::isnan(errors.front().relative_error)) return;
  std::printf("%-28s %12s %-22s %10s %6s %8s\n", "layer", "shape", "grid", "rel.error", "awq α", "seconds");
  double sum = 0.0;
  for (const LayerError& e : errors) {
    std::printf("%-28s %5lldx%-6lld %-22s %10.5f %6s %8.2f\n", e.name.c_str(), static_cast<long long>(e.rows),
                static_cast<long long>(e.cols), e.grid.c_str(), e.relative_error,
                e.awq_alpha < 0 ? "-" : cat(e.awq_alpha).c_str(), e.seconds);
    sum += e.relative_error;
  }
  std::printf("mean relative output error %.5f over %zu layers\n", sum / static_cast<double>(errors.size()),
              errors.size());
}

nlohmann::json layer_errors_json(const std::vector<LayerError>& errors) {
  nlohmann::json a = nlohmann::json::array();
  for (const LayerError& e : errors) {
    nlohmann::json j = {{"name", e.name}, {"rows", e.rows}, {"cols", e.cols}, {"grid", e.grid}, {"seconds", e.seconds}};
    j["relative_error"] = std::isnan(e.relative_error) ? nlohmann::json(nullptr) : nlohmann::json(e.relative_error);
    j["awq_alpha"] = e.awq_alpha < 0 ? nlohmann::json(nullptr) : nlohmann::json(e.awq_alpha);
    a.push_back(j);
  }
  return a;
}

double ratio(uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

void print_fallbacks(const QuantizeReport& r) {
  // Grouped by (row length, rule's type, fallback type), in file order.
  struct Group {
    int64_t cols;
    DType wanted, type;
    std::vector<std::string> names;
  };
  std::vector<Group> groups;
  for (const QuantizedTensor& t : r.tensors) {
    if (!t.fallback) continue;
    const int64_t cols = t.shape.back();
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const Group& g) { return g.cols == cols && g.wanted == t.wanted && g.type == t.type; });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{cols, t.wanted, t.type, {}});
    it->names.push_back(t.name);
  }
  for (const Group& g : groups) {
    std::string names;
    for (size_t i = 0; i < g.names.size() && i < 3; ++i) names += (i ? ", " : "") + g.names[i];
    if (g.names.size() > 3) names += cat(", ... (", g.names.size() - 3, " more)");
    std::printf("fallback: %zu tensor(s) with %lld columns fit no %s block of %lld, using %s: %s\n", g.names.size(),
                static_cast<long long>(g.cols), std::string(dtype_name(g.wanted)).c_str(),
                static_cast<long long>(dtype_block_elements(g.wanted)), std::string(dtype_name(g.type)).c_str(),
                names.c_str());
  }
}

void print_summary(const QuantizeReport& r, const std::string& model) {
  std::printf("quantized %s -> %s as %s (general.file_type %u) in %.2f s on %d thread(s)\n", model.c_str(),
              r.out_path.c_str(), r.type_name.c_str(), r.file_type, r.seconds, r.threads);
  print_fallbacks(r);
  for (const std::string& w : r.warnings) std::printf("warning: %s\n", w.c_str());
  std::printf("%-8s %8s %14s %12s %14s\n", "type", "tensors", "parameters", "bits/weight", "bytes");
  for (const QuantizeTypeSummary& s : summarize_by_type(r))
    std::printf("%-8s %8lld %14lld %12.2f %14s\n", std::string(dtype_name(s.type)).c_str(),
                static_cast<long long>(s.tensors), static_cast<long long>(s.parameters), s.bits_per_weight(),
                format_bytes(static_cast<int64_t>(s.bytes)).c_str());
  const double bpw = r.parameters ? 8.0 * static_cast<double>(r.output_bytes) / static_cast<double>(r.parameters) : 0.0;
  std::printf("%-8s %8zu %14lld %12.2f %14s\n", "total", r.tensors.size(), static_cast<long long>(r.parameters), bpw,
              format_bytes(static_cast<int64_t>(r.output_bytes)).c_str());
  std::printf("input tensors %s -> output tensors %s (ratio %.3f), file %s\n",
              format_bytes(static_cast<int64_t>(r.input_bytes)).c_str(),
              format_bytes(static_cast<int64_t>(r.output_bytes)).c_str(), ratio(r.output_bytes, r.input_bytes),
              format_bytes(static_cast<int64_t>(r.file_bytes)).c_str());
}

nlohmann::json report_json(const QuantizeReport& r) {
  nlohmann::json j;
  j["out"] = r.out_path;
  j["type"] = r.type_name;
  j["file_type"] = r.file_type;
  j["seconds"] = r.seconds;
  j["threads"] = r.threads;
  j["parameters"] = r.parameters;
  j["input_bytes"] = r.input_bytes;
  j["output_bytes"] = r.output_bytes;
  j["file_bytes"] = r.file_bytes;
  j["ratio"] = ratio(r.output_bytes, r.input_bytes);
  j["warnings"] = r.warnings;
  j["types"] = nlohmann::json::array();
  for (const QuantizeTypeSummary& s : summarize_by_type(r))
    j["types"].push_back({{"type", std::string(dtype_name(s.type))},
                          {"tensors", s.tensors},
                          {"parameters", s.parameters},
                          {"bits_per_weight", s.bits_per_weight()},
                          {"bytes", s.bytes}});
  j["tensors"] = nlohmann::json::array();
  for (const QuantizedTensor& t : r.tensors)
    j["tensors"].push_back({{"name", t.name},
                            {"shape", t.shape},
                            {"source", std::string(dtype_name(t.source))},
                            {"type", std::string(dtype_name(t.type))},
                            {"wanted", std::string(dtype_name(t.wanted))},
                            {"fallback", t.fallback},
                            {"bytes", t.bytes},
                            {"importance", t.used_importance},
                            {"note", t.note}});
  return j;
}

CalibrationRecipe make_recipe(const QuantizeCliOptions& o, const MethodChoice& method,
                              std::shared_ptr<const ImportanceMatrix> imatrix) {
  CalibrationRecipe recipe;
  recipe.rounding = method.rounding;
  recipe.awq = method.awq;
  recipe.awq_clip = o.awq_clip;
  recipe.awq_grid = o.awq_grid;
  recipe.damp = o.damp;
  recipe.importance = std::move(imatrix);
  return recipe;
}

void run_int_export(const QuantizeCliOptions& o, const MethodChoice& method) {
  Stopwatch clock;
  IntExportSpec spec;
  spec.format = o.format == "awq" ? IntExportFormat::kAwq : IntExportFormat::kGptq;
  spec.bits = o.bits;
  spec.group_size = o.group_size;
  spec.symmetric = o.sym;
  spec.act_order = o.act_order;
  spec.damp = o.damp;
  if (o.bits != 2 && o.bits != 3 && o.bits != 4 && o.bits != 8)
    throw Error("--bits", cat("must be 2, 3, 4 or 8, got ", o.bits));
  if (o.group_size == 0 || o.group_size < -1)
    throw Error("--group-size", cat("must be > 0 or -1 (per channel), got ", o.group_size));
  if (o.act_order && method.rounding != RoundingMethod::kGptq)
    throw Error("--act-order", "applies to GPTQ only (--method gptq or awq+gptq)");
  check_output(o.out, OutputKind::kFolder, {o.model, o.tokenizer, o.imatrix}, o.calib.files);
  Checkpoint ckpt = load_model(o.model, o.tokenizer);
  validate_int_export(ckpt, spec);
  CalibrationRecipe recipe = make_recipe(
      o, method, o.imatrix.empty() ? nullptr : std::make_shared<const ImportanceMatrix>(read_imatrix(o.imatrix)));
  IntGridSpec grid;
  grid.bits = o.bits;
  grid.symmetric = spec.format == IntExportFormat::kGptq && o.sym;
  // GPTQ stores zero - 1: a zero of 0 cannot be written (int_grid.h).
  if (spec.format == IntExportFormat::kGptq && !grid.symmetric) grid.min_zero = 1;
  recipe.int_grid = grid;
  recipe.group_size = o.group_size;
  recipe.act_order = o.act_order;
  std::vector<std::vector<int32_t>> windows;
  if (!o.calib.files.empty())
    windows = calibration_windows_for(ckpt, o.calib, o.tokenizer.empty() ? o.model : o.tokenizer);
  SequentialCalibration pipeline(ckpt, std::move(windows), std::move(recipe));
  save_int_quantized_hf(ckpt, o.out, spec, pipeline);
  const double seconds = clock.seconds();
  if (o.json) {
    nlohmann::json j = {{"out", o.out},         {"format", o.format},         {"method", o.method},
                        {"bits", o.bits},       {"group_size", o.group_size}, {"symmetric", grid.symmetric},
                        {"act_order", o.act_order}, {"seconds", seconds},
                        {"calibration_tokens", pipeline.calibration_tokens()}};
    j["layers"] = layer_errors_json(pipeline.layer_errors());
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("quantized %s -> %s (%s layout, %d-bit, group %lld, %s, method %s) in %.2f s\n", o.model.c_str(),
                o.out.c_str(), o.format.c_str(), o.bits, static_cast<long long>(o.group_size),
                grid.symmetric ? "symmetric" : "asymmetric", o.method.c_str(), seconds);
    print_layer_errors(pipeline.layer_errors());
  }
}

}  // namespace

Command add_quantize_command(CLI::App& parent) {
  auto o = std::make_shared<QuantizeCliOptions>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("quantize", "Write a model as a quantized GGUF (llama.cpp's mixes)");
  cmd.app = app;
  app->add_option("MODEL", o->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("OUT", o->out, "Output GGUF file (--format gptq/awq: output folder)")->required();
  app->add_option("TYPE", o->type,
                  "A mix (" + valid_mix_names() + ") or one tensor type (" + valid_tensor_type_names() +
                      "); GGUF output only");
  app->add_option("--tensor-type", o->tensor_types,
                  "REGEX=TYPE: tensors whose name matches get TYPE (repeatable, first match wins)")
      ->allow_extra_args(false);
  app->add_option("--output-type", o->output_type, "Type of output.weight");
  app->add_option("--token-embedding-type", o->token_embedding_type, "Type of token_embd.weight");
  app->add_flag("--pure", o->pure, "Every matrix gets the base type (no mix adjustments; fallbacks still apply)");
  app->add_option("--imatrix", o->imatrix, "Importance matrix (llama.cpp's GGUF imatrix or legacy .dat)");
  app->add_option("--tokenizer", o->tokenizer, "Vocabulary from elsewhere");
  app->add_option("--name", o->name, "general.name (default: the input's file name)");
  app->add_flag("--json", o->json, "One JSON object on stdout");
  app->add_option("--method", o->method,
                  "rtn (default), gptq, awq or awq+gptq; all but rtn need --calib");
  app->add_option("--format", o->format, "gguf (default), gptq or awq (Hugging Face folder, integer groups)");
  app->add_option("--bits", o->bits, "Integer grid bits for --format gptq/awq: 2, 3, 4 or 8 (default 4)");
  app->add_option("--group-size", o->group_size, "Columns per group for --format gptq/awq (default 128; -1 per channel)");
  app->add_flag("--sym", o->sym, "Symmetric integer grid (--format gptq)");
  app->add_flag("--act-order", o->act_order, "GPTQ act-order with static groups (--format gptq)");
  app->add_option("--damp", o->damp, "GPTQ dampening, fraction of mean diag(H) (default 0.01)");
  app->add_flag("--awq-clip", o->awq_clip, "AWQ clipping search (integer grids)");
  app->add_option("--awq-grid", o->awq_grid, "AWQ α grid points (default 20)");
  add_calibration_options(app, o->calib);
  cmd.run = [o] {
    const MethodChoice method = parse_method(o->method);
    if (o->format != "gguf" && o->format != "gptq" && o->format != "awq")
      throw Error("--format", cat("must be gguf, gptq or awq, got '", o->format, "'"));
    const bool calibrated = method.rounding == RoundingMethod::kGptq || method.awq || o->awq_clip;
    if (calibrated || !o->calib.files.empty()) validate_calibration_options(o->calib);
    if (!(o->damp >= 0.0 && o->damp < 10.0)) throw Error("--damp", cat("must be in [0, 10), got ", o->damp));
    if (o->awq_grid < 1) throw Error("--awq-grid", cat("must be >= 1, got ", o->awq_grid));
    if (!o->imatrix.empty()) require_existing_path("--imatrix", o->imatrix);
    if (o->format != "gguf") {
      run_int_export(*o, method);
      return;
    }
    if (o->type.empty()) throw Error("TYPE", "is required for GGUF output (e.g. Q4_K_M)");
    if (o->awq_clip) throw Error("--awq-clip", "the clipping search is for integer grids (--format gptq/awq)");
    if (o->act_order)
      throw Error("--act-order", "applies to integer groups (--format gptq); GGUF blocks are swept in order");
    QuantizeOptions q;
    q.type_name = o->type;
    // Every option is checked before the model is read.
    parse_quantize_type("TYPE", o->type);
    for (const std::string& arg : o->tensor_types) {
      auto [pattern, type] = split_tensor_type_argument("--tensor-type", arg);
      make_tensor_type_override("--tensor-type", pattern, type);
      q.tensor_types.emplace_back(pattern, type);
    }
    q.output_type = o->output_type;
    q.token_embedding_type = o->token_embedding_type;
    if (!q.output_type.empty()) parse_tensor_type("--output-type", q.output_type);
    if (!q.token_embedding_type.empty()) parse_tensor_type("--token-embedding-type", q.token_embedding_type);
    q.pure = o->pure;
    q.imatrix_path = o->imatrix;
    if (!o->imatrix.empty()) require_existing_path("--imatrix", o->imatrix);
    q.model_name = o->name;
    check_output(o->out, OutputKind::kFile, {o->model, o->tokenizer, o->imatrix}, o->calib.files);
    Checkpoint ckpt = load_model(o->model, o->tokenizer);
    std::unique_ptr<SequentialCalibration> pipeline;
    if (calibrated || !o->calib.files.empty()) {
      // One read of the imatrix: the pipeline weighs the block linears with it,
      // the writer the other tensors, and the mix rules see it in both.
      if (!o->imatrix.empty()) q.imatrix = std::make_shared<const ImportanceMatrix>(read_imatrix(o->imatrix));
      CalibrationRecipe recipe = make_recipe(*o, method, q.imatrix);
      recipe.gguf_types = plan_gguf_types(ckpt, q);
      auto windows = calibration_windows_for(ckpt, o->calib, o->tokenizer.empty() ? o->model : o->tokenizer);
      pipeline = std::make_unique<SequentialCalibration>(ckpt, std::move(windows), std::move(recipe));
    }
    const QuantizeReport r = quantize_to_gguf(ckpt, o->out, q, pipeline.get());
    if (o->json) {
      nlohmann::json j = report_json(r);
      j["method"] = o->method;
      if (pipeline) {
        j["calibration_tokens"] = pipeline->calibration_tokens();
        j["layers"] = layer_errors_json(pipeline->layer_errors());
      }
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      print_summary(r, o->model);
      if (pipeline) print_layer_errors(pipeline->layer_errors());
    }
  };
  return cmd;
}

}  // namespace lmpack::cli
