// `lmpack quantize MODEL OUT.gguf TYPE`: writes any model lmpack reads as a
// GGUF file at a llama.cpp mix (Q4_K_M, ...) or one tensor type, then prints
// a summary: per chosen tensor type the count, bits per weight and bytes; the
// total and its ratio to the input (--json: the same as one JSON object).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_common.h"
#include "core/error.h"
#include "pipeline/gguf_mix.h"
#include "pipeline/gguf_quantize.h"

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
};

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
                static_cast<long long>(dtype_traits(g.wanted).block_elements), std::string(dtype_name(g.type)).c_str(),
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

}  // namespace

Command add_quantize_command(CLI::App& parent) {
  auto o = std::make_shared<QuantizeCliOptions>();
  Command cmd;
  CLI::App* app = parent.add_subcommand("quantize", "Write a model as a quantized GGUF (llama.cpp's mixes)");
  cmd.app = app;
  app->add_option("MODEL", o->model, "Model (GGUF, llama2.c .bin, Hugging Face folder)")->required();
  app->add_option("OUT", o->out, "Output GGUF file")->required();
  app->add_option("TYPE", o->type,
                  "A mix (" + valid_mix_names() + ") or one tensor type (" + valid_tensor_type_names() + ")")
      ->required();
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
  cmd.run = [o] {
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
    Checkpoint ckpt = load_model(o->model, o->tokenizer);
    const QuantizeReport r = quantize_to_gguf(ckpt, o->out, q);
    if (o->json)
      std::printf("%s\n", report_json(r).dump(2).c_str());
    else
      print_summary(r, o->model);
  };
  return cmd;
}

}  // namespace lmpack::cli
