// `lmpack quantize MODEL OUT.gguf TYPE`: a one-step compression request
// (pipeline/compress.h) that writes any model lmpack reads as a GGUF file at
// a llama.cpp mix (Q4_K_M, ...) or one tensor type, then prints a summary:
// per chosen tensor type the count, bits per weight and bytes; the total and
// its ratio to the input (--json: the same as one JSON object). --method
// gptq|awq|awq+gptq (with --calib) runs the calibration engine and reports
// each layer's relative output error on the calibration set. --format
// gptq|awq|compressed-tensors writes a Hugging Face folder with integer group-quantized linears
// instead (--bits, --group-size, --sym, --act-order). The output records the
// step in its metadata (lmpack.recipe), as `lmpack compress` does.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_calibration.h"
#include "cli_common.h"
#include "cli_errors.h"
#include "core/byte_size.h"
#include "core/error.h"
#include "formats/format_sizes.h"
#include "pipeline/compress.h"
#include "pipeline/gguf_mix.h"
#include "pipeline/size_target.h"
#include "runtime/block_forward.h"

namespace lmpack::cli {
namespace {

struct QuantizeCliOptions {
  CompressRequest request;
  std::string type;
  std::vector<std::string> tensor_types;
  std::string output_type;
  std::string token_embedding_type;
  bool pure = false;
  std::string imatrix;
  bool json = false;
  std::string method = "rtn";
  std::string format = "gguf";
  int bits = 4;
  int64_t group_size = 128;
  bool sym = false;
  std::string ct_layout = "auto";
  bool act_order = false;
  double damp = 0.01;
  int64_t min_expert_tokens = kMinExpertTokens;
  bool awq_clip = false;
  int awq_grid = 20;
  double target_bpw = 0.0;
  std::string target_size;
  std::vector<std::string> types;
  std::string probe;
  int64_t sensitivity_tokens = 4096;
  std::string sensitivity_cache;
};

// --method and --format are words of this command; everything else the library checks.
CompressStep quantize_step(const QuantizeCliOptions& o) {
  CompressStep s;
  s.kind = StepKind::kQuantize;
  if (o.method == "rtn" || o.method == "awq") s.rounding = RoundingMethod::kRtn;
  else if (o.method == "gptq" || o.method == "awq+gptq" || o.method == "gptq+awq") s.rounding = RoundingMethod::kGptq;
  else throw Error("--method", cat("must be rtn, gptq, awq or awq+gptq, got '", o.method, "'"));
  s.awq = o.method == "awq" || o.method == "awq+gptq" || o.method == "gptq+awq";
  s.awq_clip = o.awq_clip;
  s.awq_grid = o.awq_grid;
  s.act_order = o.act_order;
  s.damp = o.damp;
  s.min_expert_tokens = o.min_expert_tokens;
  s.gguf.imatrix_path = o.imatrix;
  if (const std::optional<IntExportFormat> f = parse_int_export_format(o.format)) {
    IntExportSpec spec;
    spec.format = *f;
    spec.bits = o.bits;
    spec.group_size = o.group_size;
    spec.symmetric = o.sym;
    const std::optional<CtLayout> layout = parse_ct_layout(o.ct_layout);
    if (!layout) throw Error("--ct-layout", cat("must be auto, pack-quantized or marlin-24, got '", o.ct_layout, "'"));
    spec.ct_layout = *layout;
    s.int_export = spec;
    return s;
  }
  if (o.format != "gguf")
    throw Error("--format", cat("must be gguf, gptq, awq or compressed-tensors, got '", o.format, "'"));
  const bool targeted = o.target_bpw != 0.0 || !o.target_size.empty();
  if (o.type.empty() && !targeted)
    throw Error("TYPE", "is required for GGUF output (e.g. Q4_K_M), or a size target (--target-bpw, --target-size)");
  s.gguf.type_name = o.type;
  s.target.bits_per_weight = o.target_bpw;
  if (!o.target_size.empty()) s.target.file_bytes = parse_byte_size("--target-size", o.target_size);
  for (const std::string& t : o.types) s.target.sensitivity.types.push_back(parse_tensor_type("--types", t));
  if (!o.probe.empty()) s.target.sensitivity.probe = parse_tensor_type("--probe", o.probe);
  s.target.sensitivity.max_tokens = o.sensitivity_tokens;
  s.target.cache = o.sensitivity_cache;
  for (const std::string& arg : o.tensor_types) s.gguf.tensor_types.push_back(split_tensor_type_argument("--tensor-type", arg));
  s.gguf.output_type = o.output_type;
  s.gguf.token_embedding_type = o.token_embedding_type;
  s.gguf.pure = o.pure;
  return s;
}

// The tokens a layer's Hessian saw; an expert's routed count, with "*" where
// too few were routed and every token of its block stood in.
std::string tokens_cell(const LayerError& e) {
  if (e.routed_tokens < 0) return cat(e.tokens);
  return e.routed_tokens == e.tokens ? cat(e.routed_tokens) : cat(e.routed_tokens, "*");
}

void print_layer_errors(const std::vector<LayerError>& errors) {
  if (errors.empty() || std::isnan(errors.front().relative_error)) return;
  std::printf("%-30s %12s %-22s %10s %6s %8s %8s\n", "layer", "shape", "grid", "rel.error", "awq α", "tokens",
              "seconds");
  double sum = 0.0;
  std::vector<int64_t> routed;
  int64_t everyone = 0;
  for (const LayerError& e : errors) {
    std::printf("%-30s %5lldx%-6lld %-22s %10.5f %6s %8s %8.2f\n", e.name.c_str(), static_cast<long long>(e.rows),
                static_cast<long long>(e.cols), e.grid.c_str(), e.relative_error,
                e.awq_alpha < 0 ? "-" : cat(e.awq_alpha).c_str(), tokens_cell(e).c_str(), e.seconds);
    sum += e.relative_error;
    if (e.routed_tokens >= 0 && e.name.find("ffn_down_exps") != std::string::npos) {  // once per expert
      routed.push_back(e.routed_tokens);
      everyone += e.routed_tokens != e.tokens;
    }
  }
  std::printf("mean relative output error %.5f over %zu layers\n", sum / static_cast<double>(errors.size()),
              errors.size());
  if (routed.empty()) return;
  std::sort(routed.begin(), routed.end());
  std::printf("experts: %zu, routed calibration tokens min %lld, median %lld, max %lld; %lld routed too few "
              "(marked *, --min-expert-tokens) and calibrated on every token of their block\n",
              routed.size(), static_cast<long long>(routed.front()), static_cast<long long>(routed[routed.size() / 2]),
              static_cast<long long>(routed.back()), static_cast<long long>(everyone));
}

nlohmann::json layer_errors_json(const std::vector<LayerError>& errors) {
  nlohmann::json a = nlohmann::json::array();
  for (const LayerError& e : errors) {
    nlohmann::json j = {{"name", e.name}, {"rows", e.rows}, {"cols", e.cols}, {"grid", e.grid}, {"seconds", e.seconds}};
    j["relative_error"] = std::isnan(e.relative_error) ? nlohmann::json(nullptr) : nlohmann::json(e.relative_error);
    j["awq_alpha"] = e.awq_alpha < 0 ? nlohmann::json(nullptr) : nlohmann::json(e.awq_alpha);
    j["tokens"] = e.tokens;
    if (e.routed_tokens >= 0) j["routed_tokens"] = e.routed_tokens;
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

void print_int_export(const QuantizeCliOptions& o, const CompressReport& r) {
  const StepReport& step = r.steps.front();
  const bool symmetric = o.format != "awq" && o.sym;
  const IntExportReport& e = *step.int_export;
  if (o.json) {
    nlohmann::json j = {{"out", o.request.output}, {"format", o.format},         {"method", o.method},
                        {"bits", o.bits},          {"group_size", o.group_size}, {"symmetric", symmetric},
                        {"act_order", o.act_order}, {"seconds", r.seconds},
                        {"calibration_tokens", step.calibration_tokens}, {"layout", e.layout}};
    if (!e.note.empty()) j["layout_note"] = e.note;
    j["layers"] = layer_errors_json(step.layers);
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  const std::string layout = e.layout == o.format ? o.format : cat(o.format, " ", e.layout);
  std::printf("quantized %s -> %s (%s layout, %d-bit, group %lld, %s, method %s) in %.2f s\n", o.request.model.c_str(),
              o.request.output.c_str(), layout.c_str(), o.bits, static_cast<long long>(o.group_size),
              symmetric ? "symmetric" : "asymmetric", o.method.c_str(), r.seconds);
  if (!e.note.empty()) std::printf("layout: %s\n", e.note.c_str());
  print_layer_errors(step.layers);
}

void print_allocation(const SizeAllocation& a) {
  const SensitivityTable& t = a.sensitivity;
  std::printf("size target %s: %s of tensors allowed, %s allocated (%.3f bpw); predicted KL %.6f\n", a.target.c_str(),
              format_bytes(static_cast<int64_t>(a.target_bytes)).c_str(),
              format_bytes(static_cast<int64_t>(a.tensor_bytes)).c_str(), a.bits_per_weight(), a.predicted_kl);
  std::printf("sensitivity: %lld tensors probed at %s on %lld windows (%lld tokens), %s\n",
              static_cast<long long>(t.tensors.size()), std::string(dtype_name(t.probe)).c_str(),
              static_cast<long long>(t.windows), static_cast<long long>(t.tokens),
              t.from_cache ? "read from the cache" : cat("measured in ", t.seconds, " s").c_str());
  std::printf("%-30s %-6s %12s %12s %12s\n", "tensor", "type", "bytes", "rel.err²", "pred. ΔKL");
  for (const AllocatedTensor& x : a.tensors)
    std::printf("%-30s %-6s %12llu %12.3e %12.3e%s\n", x.name.c_str(), std::string(dtype_name(x.type)).c_str(),
                static_cast<unsigned long long>(x.bytes), x.error2, x.predicted_kl, x.fixed ? "  (fixed by an option)" : "");
}

nlohmann::json allocation_json(const SizeAllocation& a) {
  nlohmann::json j = {{"target", a.target},           {"target_bytes", a.target_bytes},
                      {"overhead_bytes", a.overhead_bytes}, {"fixed_bytes", a.fixed_bytes},
                      {"tensor_bytes", a.tensor_bytes}, {"bits_per_weight", a.bits_per_weight()},
                      {"predicted_kl", a.predicted_kl}, {"sensitivity_from_cache", a.sensitivity.from_cache},
                      {"sensitivity_seconds", a.sensitivity.seconds}};
  j["tensors"] = nlohmann::json::array();
  for (const AllocatedTensor& x : a.tensors)
    j["tensors"].push_back({{"name", x.name},
                            {"type", std::string(dtype_name(x.type))},
                            {"bytes", x.bytes},
                            {"error2", x.error2},
                            {"predicted_kl", x.predicted_kl},
                            {"fixed", x.fixed}});
  return j;
}

void print_gguf(const QuantizeCliOptions& o, const CompressReport& r) {
  const StepReport& step = r.steps.front();
  const bool calibrated = !step.layers.empty();
  if (o.json) {
    nlohmann::json j = report_json(*r.gguf);
    j["method"] = o.method;
    if (step.allocation) j["allocation"] = allocation_json(*step.allocation);
    if (calibrated) {
      j["calibration_tokens"] = step.calibration_tokens;
      j["layers"] = layer_errors_json(step.layers);
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  print_summary(*r.gguf, o.request.model);
  if (step.allocation) print_allocation(*step.allocation);
  if (calibrated) print_layer_errors(step.layers);
}

}  // namespace

Command add_quantize_command(CLI::App& parent) {
  auto o = std::make_shared<QuantizeCliOptions>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("quantize", "Write a model as a quantized GGUF (llama.cpp's mixes)");
  cmd.app = app;
  cmd.flat_steps = true;
  CompressRequest& req = o->request;
  app->add_option("MODEL", req.model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("OUT", req.output, "Output GGUF file (--format gptq/awq: output folder)")->required();
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
  app->add_option("--tokenizer", req.tokenizer, "Vocabulary from elsewhere");
  app->add_option("--name", req.model_name, "general.name (default: the input's file name)");
  app->add_flag("--json", o->json, "One JSON object on stdout");
  app->add_option("--method", o->method,
                  "rtn (default), gptq, awq or awq+gptq; all but rtn need --calib");
  app->add_option("--format", o->format,
                  "gguf (default), gptq, awq or compressed-tensors (Hugging Face folder, integer groups)");
  app->add_option("--bits", o->bits, "Integer grid bits for --format gptq/awq: 2, 3, 4 or 8 (default 4)");
  app->add_option("--group-size", o->group_size, "Columns per group for --format gptq/awq (default 128; -1 per channel)");
  app->add_flag("--sym", o->sym, "Symmetric integer grid (--format gptq or compressed-tensors)");
  app->add_flag("--act-order", o->act_order, "GPTQ act-order with static groups (--format gptq)");
  app->add_option("--ct-layout", o->ct_layout,
                  "--format compressed-tensors: auto (default: marlin-24 when every linear is 2:4 sparse and the "
                  "grid fits), pack-quantized or marlin-24");
  app->add_option("--damp", o->damp, "GPTQ dampening, fraction of mean diag(H) (default 0.01)");
  app->add_option("--min-expert-tokens", o->min_expert_tokens,
                  "Mixture of experts: an expert routed fewer calibration tokens is calibrated on every token of "
                  "its block (default 32)");
  app->add_flag("--awq-clip", o->awq_clip, "AWQ clipping search (integer grids)");
  app->add_option("--awq-grid", o->awq_grid, "AWQ α grid points (default 20)");
  app->add_option("--target-bpw", o->target_bpw,
                  "Instead of TYPE: the bits per weight to fit (tensor bytes x 8 / parameters); each matrix gets the "
                  "type that a sensitivity measured on --calib predicts loses least");
  app->add_option("--target-size", o->target_size, "Instead of TYPE: the file size to fit (3GB: 3e9 bytes; 2.5GiB or 2.5G: 2.5 x 2^30)");
  app->add_option("--types", o->types,
                  "Candidate types of a size target, comma-separated (default q2_K,q3_K,q4_K,q5_K,q6_K,q8_0)")
      ->delimiter(',');
  app->add_option("--probe", o->probe, "The type each tensor's sensitivity is measured in (default: the lowest candidate)");
  app->add_option("--sensitivity-tokens", o->sensitivity_tokens,
                  "Calibration tokens the sensitivity is measured on (whole windows; default 4096)");
  app->add_option("--sensitivity-cache", o->sensitivity_cache,
                  "JSON file that keeps the measured sensitivity; reused when the model, windows and options agree");
  add_calibration_options(app, req.calibration);
  cmd.run = [o] {
    o->request.steps = {quantize_step(*o)};
    const CompressReport r = compress(o->request);
    print_warnings(r.warnings);
    if (r.gguf)
      print_gguf(*o, r);
    else
      print_int_export(*o, r);
  };
  return cmd;
}

}  // namespace lmpack::cli
