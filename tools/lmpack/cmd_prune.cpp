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
#include <filesystem>
#include <cstdio>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_calibration.h"
#include "cli_common.h"
#include "cli_output.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "model/save_hf.h"
#include "pipeline/compressed_checkpoint.h"
#include "pipeline/gguf_quantize.h"
#include "pipeline/sequential_calibration.h"
#include "pipeline/structured_prune.h"

namespace lmpack::cli {
namespace {

struct PruneCliOptions {
  std::string model;
  std::string out;
  std::string tokenizer;
  std::string method = "magnitude";
  double sparsity = -1.0;
  std::string pattern;
  std::string then_quantize;
  std::string dtype = "f32";
  bool json = false;
  int64_t heads = 0;
  int64_t ffn_width = 0;
  int64_t drop_blocks = 0;
  CalibCliOptions calib;
};

PruneMethod parse_prune_method(const std::string& m) {
  if (m == "magnitude") return PruneMethod::kMagnitude;
  if (m == "wanda") return PruneMethod::kWanda;
  if (m == "sparsegpt") return PruneMethod::kSparseGpt;
  throw Error("--method", cat("must be magnitude, wanda or sparsegpt, got '", m, "'"));
}

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

}  // namespace

Command add_prune_command(CLI::App& parent) {
  auto o = std::make_shared<PruneCliOptions>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("prune", "Prune every linear weight (magnitude, Wanda, SparseGPT; unstructured or N:M)");
  cmd.app = app;
  app->add_option("MODEL", o->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("OUT", o->out, "Output: a .gguf file, else a Hugging Face folder")->required();
  app->add_option("--method", o->method, "magnitude (default), wanda or sparsegpt (the last two need --calib)");
  app->add_option("--sparsity", o->sparsity, "Fraction of each output row's weights set to zero, in (0, 1)");
  app->add_option("--pattern", o->pattern, "N:M: N zeros in every M consecutive weights of a row (2:4, 4:8)");
  app->add_option("--then-quantize", o->then_quantize,
                  "GGUF mix for the output (SparseGPT quantizes in the same sweep); default: --dtype");
  app->add_option("--dtype", o->dtype, "Float type of the output without --then-quantize: f32 (default), f16, bf16");
  app->add_option("--tokenizer", o->tokenizer, "Vocabulary from elsewhere");
  app->add_flag("--json", o->json, "One JSON object on stdout");
  app->add_option("--heads", o->heads, "Structured: remove K query heads per layer (whole GQA groups), by calibration score");
  app->add_option("--ffn-width", o->ffn_width, "Structured: keep the F highest-scoring FFN channels per layer");
  app->add_option("--drop-blocks", o->drop_blocks, "Structured: remove the N blocks that change their input least (ShortGPT)");
  add_calibration_options(app, o->calib);
  cmd.run = [o, app] {
    Stopwatch clock;
    const bool structured = o->heads != 0 || o->ffn_width != 0 || o->drop_blocks != 0;
    const bool has_sparsity = app->count("--sparsity") > 0;
    const bool unstructured = has_sparsity || app->count("--pattern") > 0;
    // Given means given: --sparsity -0.1, nan or 0 is an error, not "nothing to prune".
    if (has_sparsity && !(o->sparsity > 0.0 && o->sparsity < 1.0))
      throw Error("--sparsity", cat("must be in (0, 1), got ", o->sparsity));
    if (has_sparsity && !o->pattern.empty())
      throw Error("--sparsity", "give one of --sparsity S and --pattern N:M, not both");
    if (!structured && !unstructured)
      throw Error("--sparsity", "nothing to prune: give --sparsity S, --pattern N:M, --heads, --ffn-width or --drop-blocks");
    CalibrationRecipe recipe;
    PruneSpec spec;
    spec.method = parse_prune_method(o->method);
    if (unstructured) {
      spec.pattern = o->pattern.empty() ? SparsityPattern{o->sparsity, 0, 0} : parse_n_m_pattern(o->pattern);
      validate_sparsity_pattern(spec.pattern);
      recipe.prune = spec;
    }
    const DType dtype = parse_float_dtype("--dtype", o->dtype);
    const bool gguf = ends_with_gguf(o->out);
    if (!o->then_quantize.empty() && !gguf) throw Error("--then-quantize", "needs a .gguf OUT");
    if (structured || (unstructured && spec.method != PruneMethod::kMagnitude) || !o->calib.files.empty())
      validate_calibration_options(o->calib);
    check_output(o->out, gguf ? OutputKind::kFile : OutputKind::kFolder, {o->model, o->tokenizer}, o->calib.files);

    Checkpoint ckpt = load_model(o->model, o->tokenizer);
    std::vector<std::vector<int32_t>> windows;
    if (!o->calib.files.empty())
      windows = calibration_windows_for(ckpt, o->calib, o->tokenizer.empty() ? o->model : o->tokenizer);
    const int64_t parameters_before = ckpt.parameter_count();
    std::optional<StructuredPruneReport> structure;
    if (structured) {
      StructuredPruneOptions so;
      so.heads = o->heads;
      so.ffn_width = o->ffn_width;
      so.drop_blocks = o->drop_blocks;
      validate_structured_prune_options(ckpt.config, so);
      StructuredPruneResult res = structured_prune(ckpt, windows, so);
      ckpt = std::move(res.checkpoint);
      structure = std::move(res.report);
    }
    QuantizeOptions q;
    q.type_name = o->then_quantize.empty() ? std::string(dtype_name(dtype)) : o->then_quantize;
    q.pure = o->then_quantize.empty();
    const std::map<std::string, DType> types = plan_gguf_types(ckpt, q);
    for (int64_t l = 0; l < ckpt.config.n_layers; ++l)
      for (const std::string& n : block_linear_names(l)) recipe.gguf_types[n] = gguf ? types.at(n) : DType::F32;
    std::unique_ptr<SequentialCalibration> pipeline;
    if (unstructured) pipeline = std::make_unique<SequentialCalibration>(ckpt, windows, recipe);
    uint64_t file_bytes = 0;
    if (gguf) {
      file_bytes = quantize_to_gguf(ckpt, o->out, q, pipeline.get()).file_bytes;
    } else if (pipeline) {
      const Checkpoint pruned = decode_compressed(ckpt, *pipeline, recipe.gguf_types, {});
      save_hf(pruned, o->out, dtype);
    } else {
      save_hf(ckpt, o->out, dtype);
    }
    if (!gguf) {  // the folder's files
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(o->out, ec))
        if (entry.is_regular_file()) file_bytes += entry.file_size();
    }
    static const std::vector<LayerError> kNone;
    const std::vector<LayerError>& errors = pipeline ? pipeline->layer_errors() : kNone;
    const PruneTotals t = totals_of(errors);
    const double overall = t.linear_parameters ? static_cast<double>(t.linear_zeros) / t.linear_parameters : 0.0;
    if (o->json) {
      nlohmann::json j = {{"out", o->out},
                          {"method", unstructured ? o->method : std::string("structured")},
                          {"pattern", !unstructured ? std::string() : o->pattern.empty() ? cat(o->sparsity) : o->pattern},
                          {"parameters_before", parameters_before},
                          {"parameters", ckpt.parameter_count()},
                          {"linear_parameters", t.linear_parameters},
                          {"linear_zeros", t.linear_zeros},
                          {"nonzero_parameters", ckpt.parameter_count() - t.linear_zeros},
                          {"sparsity", overall},
                          {"pruned_nonzero", t.pruned_nonzero},
                          {"file_bytes", file_bytes},
                          {"seconds", clock.seconds()}};
      nlohmann::json layers = nlohmann::json::array();
      if (structure) {
        j["config"] = {{"n_layers", ckpt.config.n_layers}, {"n_heads", ckpt.config.n_heads},
                       {"n_kv_heads", ckpt.config.n_kv_heads}, {"hidden_dim", ckpt.config.hidden_dim}};
        j["dropped_blocks"] = structure->dropped_blocks;
        j["removed_heads"] = structure->removed_heads;
        j["removed_channels"] = structure->removed_channels;
        j["block_influence"] = structure->scores.blocks;
      }
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
    std::printf("pruned %s -> %s in %.2f s; parameters %lld -> %lld\n", o->model.c_str(), o->out.c_str(),
                clock.seconds(), static_cast<long long>(parameters_before),
                static_cast<long long>(ckpt.parameter_count()));
    if (structure) std::printf("%s", format_structured_prune_report(*structure).c_str());
    if (!unstructured) return;
    std::printf("%s, %s\n", o->method.c_str(),
                o->pattern.empty() ? cat("sparsity ", o->sparsity).c_str() : cat("pattern ", o->pattern).c_str());
    std::printf("%-28s %12s %-22s %9s %10s %10s\n", "layer", "shape", "grid", "sparsity", "not-zero", "rel.error");
    for (const LayerError& e : errors)
      std::printf("%-28s %5lldx%-6lld %-22s %9.4f %10lld %10.5f\n", e.name.c_str(), static_cast<long long>(e.rows),
                  static_cast<long long>(e.cols), e.grid.c_str(), e.sparsity(), static_cast<long long>(e.pruned_nonzero),
                  e.relative_error);
    std::printf("linear weights: %lld of %lld zero (sparsity %.4f); parameters %lld, nonzero %lld", 
                static_cast<long long>(t.linear_zeros), static_cast<long long>(t.linear_parameters), overall,
                static_cast<long long>(ckpt.parameter_count()),
                static_cast<long long>(ckpt.parameter_count() - t.linear_zeros));
    if (gguf) std::printf("; file %s", format_bytes(static_cast<int64_t>(file_bytes)).c_str());
    std::printf("\n");
    if (t.pruned_nonzero > 0)
      std::printf("note: %lld pruned positions are not exactly 0 after quantization: %s has per-block minimums "
                  "(use a symmetric type such as Q4_0, Q5_0, Q8_0, Q3_K or Q6_K to keep every zero)\n",
                  static_cast<long long>(t.pruned_nonzero), q.type_name.c_str());
  };
  return cmd;
}

}  // namespace lmpack::cli
