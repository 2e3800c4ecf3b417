// `lmpack compress MODEL OUT --recipe FILE [--calib FILE ...]`: the steps of a
// recipe file (pipeline/recipe.h) run by the library's one compression job
// (pipeline/compress.h). Calibration flags given here replace the recipe's
// "calibration" values. Prints each step's effect (parameters, the mean
// relative output error of its layers) and the output's size; --json prints
// the whole report.
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_calibration.h"
#include "cli_common.h"
#include "cli_errors.h"
#include "core/error.h"
#include "pipeline/compress.h"
#include "pipeline/recipe.h"

namespace lmpack::cli {
namespace {

struct CompressCliOptions {
  std::string model, out, recipe, tokenizer, name;
  bool json = false;
  CalibrationSource calib;
};

double mean_error(const std::vector<LayerError>& layers) {
  double sum = 0.0;
  int64_t n = 0;
  for (const LayerError& e : layers)
    if (!std::isnan(e.relative_error)) sum += e.relative_error, ++n;
  return n ? sum / static_cast<double>(n) : NAN;
}

nlohmann::json report_json(const CompressReport& r, const std::string& out) {
  nlohmann::json j = {{"out", out}, {"file_bytes", r.file_bytes}, {"seconds", r.seconds}};
  j["recipe"] = nlohmann::json::parse(r.recipe.empty() ? "[]" : r.recipe);
  j["steps"] = nlohmann::json::array();
  for (const StepReport& s : r.steps) {
    nlohmann::json step = {{"step", nlohmann::json::parse(s.description)},
                           {"parameters_before", s.parameters_before},
                           {"parameters_after", s.parameters_after},
                           {"calibration_tokens", s.calibration_tokens},
                           {"seconds", s.seconds}};
    const double m = mean_error(s.layers);
    step["mean_relative_error"] = std::isnan(m) ? nlohmann::json(nullptr) : nlohmann::json(m);
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerError& e : s.layers) {
      nlohmann::json l = {{"name", e.name}, {"grid", e.grid}, {"sparsity", e.sparsity()}};
      l["relative_error"] = std::isnan(e.relative_error) ? nlohmann::json(nullptr) : nlohmann::json(e.relative_error);
      if (e.routed_tokens >= 0) l["routed_tokens"] = e.routed_tokens;
      layers.push_back(l);
    }
    step["layers"] = layers;
    if (s.distill) {
      const TrainReport& t = s.distill->training;
      step["distill"] = {{"steps", t.steps},         {"tokens", t.tokens_trained}, {"final_loss", t.final_loss},
                         {"tokens_per_s", t.tokens_per_s}, {"student_grid", s.distill->student_grid}};
    }
    if (s.int_export) {
      step["layout"] = s.int_export->layout;
      if (!s.int_export->note.empty()) step["layout_note"] = s.int_export->note;
    }
    j["steps"].push_back(step);
  }
  if (r.gguf) j["output_bytes"] = r.gguf->output_bytes, j["input_bytes"] = r.gguf->input_bytes;
  return j;
}

}  // namespace

Command add_compress_command(CLI::App& parent) {
  auto o = std::make_shared<CompressCliOptions>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("compress", "Run a recipe of compression steps (prune, quantize, ...)");
  cmd.app = app;
  app->add_option("MODEL", o->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("OUT", o->out, "Output: a .gguf file, else a folder")->required();
  app->add_option("--recipe", o->recipe, "Recipe file (JSON: a list of steps)")->required();
  app->add_option("--tokenizer", o->tokenizer, "Vocabulary from elsewhere");
  app->add_option("--name", o->name, "general.name (default: the input's file name)");
  app->add_flag("--json", o->json, "One JSON object on stdout");
  add_calibration_options(app, o->calib);
  cmd.run = [o, app] {
    require_existing_path("--recipe", o->recipe);
    Recipe recipe = read_recipe(o->recipe);
    CompressRequest req;
    req.model = o->model;
    req.tokenizer = o->tokenizer;
    req.output = o->out;
    req.model_name = o->name;
    req.steps = std::move(recipe.steps);
    req.calibration = recipe.calibration;
    if (app->count("--calib")) req.calibration.files = o->calib.files;
    if (app->count("--calib-samples")) req.calibration.samples = o->calib.samples;
    if (app->count("--calib-ctx")) req.calibration.ctx = o->calib.ctx;
    if (app->count("--seed")) req.calibration.seed = o->calib.seed;
    if (app->count("--consecutive")) req.calibration.consecutive = o->calib.consecutive;
    CompressReport r;
    try {
      r = compress(req);
    } catch (const Error& e) {
      if (e.where().rfind("steps[", 0) == 0) throw Error(o->recipe, e.what());  // a step of the file
      throw;
    }
    print_warnings(r.warnings);
    if (o->json) {
      std::printf("%s\n", report_json(r, o->out).dump(2).c_str());
      return;
    }
    std::printf("compressed %s -> %s in %.2f s, %zu step(s)\n", o->model.c_str(), o->out.c_str(), r.seconds,
                r.steps.size());
    for (size_t i = 0; i < r.steps.size(); ++i) {
      const StepReport& s = r.steps[i];
      std::printf("step %zu: %s\n  parameters %lld -> %lld", i + 1, s.description.c_str(),
                  static_cast<long long>(s.parameters_before), static_cast<long long>(s.parameters_after));
      const double m = mean_error(s.layers);
      if (!std::isnan(m)) std::printf(", mean relative output error %.5f over %zu layers", m, s.layers.size());
      if (s.distill)
        std::printf(", distilled on %lld tokens: loss %.4g, %.0f tok/s",
                    static_cast<long long>(s.distill->training.tokens_trained), s.distill->training.final_loss,
                    s.distill->training.tokens_per_s);
      std::printf(", %.2f s\n", s.seconds);
      if (s.int_export) {
        std::printf("  layout %s", s.int_export->layout.c_str());
        if (!s.int_export->note.empty()) std::printf(": %s", s.int_export->note.c_str());
        std::printf("\n");
      }
    }
    std::printf("output %s (%s)", o->out.c_str(), format_bytes(static_cast<int64_t>(r.file_bytes)).c_str());
    if (r.gguf)
      std::printf("; tensors %s -> %s", format_bytes(static_cast<int64_t>(r.gguf->input_bytes)).c_str(),
                  format_bytes(static_cast<int64_t>(r.gguf->output_bytes)).c_str());
    std::printf("\n");
  };
  return cmd;
}

}  // namespace lmpack::cli
