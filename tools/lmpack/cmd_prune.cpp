// `lmpack prune MODEL OUT --method magnitude|wanda|sparsegpt (--sparsity S |
// --pattern N:M)`: unstructured or N:M pruning of every linear weight of the
// blocks, per output row as in the papers, through the sequential calibration
// pipeline (pipeline/sequential_calibration.h; Wanda and SparseGPT need
// --calib). The result is a normal dense checkpoint with zeros in place: OUT
// ending in .gguf is a GGUF (F32, or --dtype f16, or --then-quantize TYPE: a
// llama.cpp mix whose linears SparseGPT quantizes in the same sweep and
// magnitude/Wanda round to nearest after masking), anything else a Hugging
// Face folder. The summary gives each layer's achieved sparsity, how many
// pruned positions the target grid could not keep at exactly 0, and the
// relative output error on the calibration set (--json: all of it).
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_calibration.h"
#include "cli_common.h"
#include "cli_errors.h"
#include "core/error.h"
#include "core/output_path.h"
#include "methods/sparsity.h"
#include "pipeline/compress.h"

namespace lmpack::cli {
namespace {

struct PruneCliOptions {
  CompressRequest request;
  std::string method = "magnitude";
  double sparsity = -1.0;
  std::string pattern;
  std::string then_quantize;
  std::string dtype = "f32";
  bool json = false;
  int64_t heads = 0;
  int64_t ffn_width = 0;
  int64_t drop_blocks = 0;
  int64_t drop_experts = 0;
};

struct PruneTotals {
  int64_t linear_parameters = 0, linear_zeros = 0, pruned_nonzero = 0;
};

PruneTotals totals_of(const std::vector<LayerError>& errors) {
  PruneTotals t;
  for (const LayerError& e : errors) {
    t.linear_parameters += e.rows * e.cols;
    t.linear_zeros += e.zeros;
    t.pruned_nonzero += e.pruned_nonzero;
  }
  return t;
}

// The request's steps: a structured cut, then masks; the last one carries the target.
std::vector<CompressStep> prune_steps(const PruneCliOptions& o, bool structured, bool unstructured) {
  std::vector<CompressStep> steps;
  if (structured) {
    CompressStep s;
    s.kind = StepKind::kStructured;
    s.structure.heads = o.heads;
    s.structure.ffn_width = o.ffn_width;
    s.structure.drop_blocks = o.drop_blocks;
    s.structure.drop_experts = o.drop_experts;
    steps.push_back(s);
  }
  if (unstructured) {
    CompressStep s;
    s.kind = StepKind::kPrune;
    if (o.method == "magnitude") s.prune = PruneMethod::kMagnitude;
    else if (o.method == "wanda") s.prune = PruneMethod::kWanda;
    else if (o.method == "sparsegpt") s.prune = PruneMethod::kSparseGpt;
    else throw Error("--method", cat("must be magnitude, wanda or sparsegpt, got '", o.method, "'"));
    s.pattern = o.pattern.empty() ? SparsityPattern{o.sparsity, 0, 0} : parse_n_m_pattern(o.pattern);
    steps.push_back(s);
  }
  CompressStep& last = steps.back();
  last.hf_dtype = parse_float_dtype("--dtype", o.dtype);
  if (!o.then_quantize.empty() || is_gguf_path(o.request.output)) {
    last.gguf.type_name = o.then_quantize.empty() ? std::string(dtype_name(last.hf_dtype)) : o.then_quantize;
    last.gguf.pure = o.then_quantize.empty();
  }
  return steps;
}

void print_report(const PruneCliOptions& o, const CompressReport& r, bool unstructured) {
  const StepReport& first = r.steps.front();
  const StepReport& last = r.steps.back();
  const int64_t parameters = last.parameters_after;
  const std::vector<LayerError>& errors = last.layers;
  const PruneTotals t = totals_of(errors);
  const double overall = t.linear_parameters ? static_cast<double>(t.linear_zeros) / t.linear_parameters : 0.0;
  const std::string& out = o.request.output;
  if (o.json) {
    nlohmann::json j = {{"out", out},
                        {"method", unstructured ? o.method : std::string("structured")},
                        {"pattern", !unstructured ? std::string() : o.pattern.empty() ? cat(o.sparsity) : o.pattern},
                        {"parameters_before", first.parameters_before},
                        {"parameters", parameters},
                        {"linear_parameters", t.linear_parameters},
                        {"linear_zeros", t.linear_zeros},
                        {"nonzero_parameters", parameters - t.linear_zeros},
                        {"sparsity", overall},
                        {"pruned_nonzero", t.pruned_nonzero},
                        {"file_bytes", r.file_bytes},
                        {"seconds", r.seconds}};
    if (first.structure) {
      const StructuredPruneReport& s = *first.structure;
      j["config"] = {{"n_layers", last.config.n_layers}, {"n_heads", last.config.n_heads},
                     {"n_kv_heads", last.config.n_kv_heads}, {"hidden_dim", last.config.hidden_dim}};
      j["dropped_blocks"] = s.dropped_blocks;
      j["removed_heads"] = s.removed_heads;
      j["removed_channels"] = s.removed_channels;
      j["block_influence"] = s.scores.blocks;
      if (last.config.is_moe()) {
        j["config"]["n_experts"] = last.config.n_experts;
        j["config"]["n_experts_used"] = last.config.n_experts_used;
        j["removed_experts"] = s.removed_experts;
        j["expert_routed_fraction"] = s.scores.experts;
      }
    }
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerError& e : errors) {
      nlohmann::json l = {{"name", e.name}, {"rows", e.rows}, {"cols", e.cols}, {"grid", e.grid},
                          {"sparsity", e.sparsity()}, {"pruned_nonzero", e.pruned_nonzero}};
      l["relative_error"] = std::isnan(e.relative_error) ? nlohmann::json(nullptr) : nlohmann::json(e.relative_error);
      layers.push_back(l);
    }
    j["layers"] = layers;
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("pruned %s -> %s in %.2f s; parameters %lld -> %lld\n", o.request.model.c_str(), out.c_str(),
              r.seconds, static_cast<long long>(first.parameters_before), static_cast<long long>(parameters));
  if (first.structure) std::printf("%s", format_structured_prune_report(*first.structure).c_str());
  if (!unstructured) return;
  std::printf("%s, %s\n", o.method.c_str(),
              o.pattern.empty() ? cat("sparsity ", o.sparsity).c_str() : cat("pattern ", o.pattern).c_str());
  std::printf("%-28s %12s %-22s %9s %10s %10s\n", "layer", "shape", "grid", "sparsity", "not-zero", "rel.error");
  for (const LayerError& e : errors)
    std::printf("%-28s %5lldx%-6lld %-22s %9.4f %10lld %10.5f\n", e.name.c_str(), static_cast<long long>(e.rows),
                static_cast<long long>(e.cols), e.grid.c_str(), e.sparsity(), static_cast<long long>(e.pruned_nonzero),
                e.relative_error);
  std::printf("linear weights: %lld of %lld zero (sparsity %.4f); parameters %lld, nonzero %lld",
              static_cast<long long>(t.linear_zeros), static_cast<long long>(t.linear_parameters), overall,
              static_cast<long long>(parameters), static_cast<long long>(parameters - t.linear_zeros));
  if (is_gguf_path(out)) std::printf("; file %s", format_bytes(static_cast<int64_t>(r.file_bytes)).c_str());
  std::printf("\n");
  if (t.pruned_nonzero > 0)
    std::printf("note: %lld pruned positions are not exactly 0 after quantization: %s has per-block minimums "
                "(use a symmetric type such as Q4_0, Q5_0, Q8_0, Q3_K or Q6_K to keep every zero)\n",
                static_cast<long long>(t.pruned_nonzero), o.then_quantize.c_str());
}

}  // namespace

Command add_prune_command(CLI::App& parent) {
  auto o = std::make_shared<PruneCliOptions>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("prune", "Prune every linear weight (magnitude, Wanda, SparseGPT; unstructured or N:M)");
  cmd.app = app;
  cmd.flat_steps = true;
  cmd.flags = {{"type", "--then-quantize"}};
  CompressRequest& req = o->request;
  app->add_option("MODEL", req.model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("OUT", req.output, "Output: a .gguf file, else a Hugging Face folder")->required();
  app->add_option("--method", o->method, "magnitude (default), wanda or sparsegpt (the last two need --calib)");
  app->add_option("--sparsity", o->sparsity, "Fraction of each output row's weights set to zero, in (0, 1)");
  app->add_option("--pattern", o->pattern, "N:M: N zeros in every M consecutive weights of a row (2:4, 4:8)");
  app->add_option("--then-quantize", o->then_quantize,
                  "GGUF mix for the output (SparseGPT quantizes in the same sweep); default: --dtype");
  app->add_option("--dtype", o->dtype, "Float type of the output without --then-quantize: f32 (default), f16, bf16");
  app->add_option("--tokenizer", req.tokenizer, "Vocabulary from elsewhere");
  app->add_flag("--json", o->json, "One JSON object on stdout");
  app->add_option("--heads", o->heads, "Structured: remove K query heads per layer (whole GQA groups), by calibration score");
  app->add_option("--ffn-width", o->ffn_width, "Structured: keep the F highest-scoring FFN channels per layer");
  app->add_option("--drop-blocks", o->drop_blocks, "Structured: remove the N blocks that change their input least (ShortGPT)");
  app->add_option("--drop-experts", o->drop_experts,
                  "Structured, mixtures of experts: remove the E least-routed experts of every layer");
  add_calibration_options(app, req.calibration);
  cmd.run = [o, app] {
    const bool structured = o->heads != 0 || o->ffn_width != 0 || o->drop_blocks != 0 || o->drop_experts != 0;
    const bool has_sparsity = app->count("--sparsity") > 0;
    const bool unstructured = has_sparsity || app->count("--pattern") > 0;
    // Given means given: --sparsity -0.1, nan or 0 is an error, not "nothing to prune".
    if (has_sparsity && !(o->sparsity > 0.0 && o->sparsity < 1.0))
      throw Error("--sparsity", cat("must be in (0, 1), got ", o->sparsity));
    if (has_sparsity && !o->pattern.empty())
      throw Error("--sparsity", "give one of --sparsity S and --pattern N:M, not both");
    if (!structured && !unstructured)
      throw Error("--sparsity", "nothing to prune: give --sparsity S, --pattern N:M, --heads, --ffn-width, --drop-blocks "
                                "or --drop-experts");
    o->request.steps = prune_steps(*o, structured, unstructured);
    const CompressReport r = compress(o->request);
    print_warnings(r.warnings);
    print_report(*o, r, unstructured);
  };
  return cmd;
}

}  // namespace lmpack::cli
