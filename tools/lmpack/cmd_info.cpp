// `lmpack info MODEL [--json] [--tokenizer PATH]`: what a checkpoint holds,
// from its headers only (no weight byte is read): format, architecture,
// hyperparameters, tensors with dtype and shape, parameter count and bytes,
// and the vocabulary's summary when one is there.
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli_common.h"
#include "core/error.h"
#include "model/load_model.h"
#include "io/tensor_info.h"

namespace lmpack::cli {
namespace {

struct InfoOptions {
  std::string model;
  std::string tokenizer;
  bool json = false;
};

// A float as the shortest decimal that reads back to it (1e-05, not 9.99999974e-06).
double float_for_json(float f) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), f);
  return std::strtod(std::string(buf, res.ptr).c_str(), nullptr);
}

nlohmann::json rope_scaling_json(const RopeScaling& r) {
  if (r.type == RopeScaling::Type::kNone) return nullptr;
  return {{"type", "llama3"},
          {"factor", float_for_json(r.factor)},
          {"low_freq_factor", float_for_json(r.low_freq_factor)},
          {"high_freq_factor", float_for_json(r.high_freq_factor)},
          {"original_max_position", r.original_max_position}};
}

nlohmann::json info_json(const Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config;
  nlohmann::json j;
  j["format"] = ckpt.format;
  j["architecture"] = c.architecture;
  j["config"] = {{"dim", c.dim},
                 {"hidden_dim", c.hidden_dim},
                 {"n_layers", c.n_layers},
                 {"n_heads", c.n_heads},
                 {"n_kv_heads", c.n_kv_heads},
                 {"head_dim", c.head_dim},
                 {"vocab_size", c.vocab_size},
                 {"context_length", c.context_length},
                 {"rms_eps", float_for_json(c.rms_eps)},
                 {"rope_theta", float_for_json(c.rope_theta)},
                 {"tied_embeddings", c.tied_embeddings},
                 {"qkv_bias", c.attn_qkv_bias},
                 {"qk_norm", c.attn_qk_norm},
                 {"sliding_window", c.sliding_window},
                 {"rope_scaling", rope_scaling_json(c.rope_scaling)}};
  j["parameters"] = ckpt.parameter_count();
  j["bytes"] = ckpt.tensor_bytes();
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& [name, t] : ckpt.tensors)
    tensors.push_back({{"name", name}, {"dtype", std::string(dtype_name(t.dtype))}, {"shape", t.shape},
                       {"bytes", t.nbytes}});
  j["tensors"] = std::move(tensors);
  if (ckpt.vocab) {
    const Vocab& v = *ckpt.vocab;
    j["vocab"] = {{"model", v.model}, {"pre", v.pre}, {"size", v.size()}, {"bos", v.bos_id}, {"eos", v.eos_id}};
  } else {
    j["vocab"] = nullptr;
  }
  return j;
}

void print_human(const Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config;
  std::printf("model         %s\n", ckpt.path.c_str());
  std::printf("format        %s\n", ckpt.format.c_str());
  std::printf("architecture  %s\n", c.architecture.c_str());
  std::printf("dim %lld, hidden_dim %lld, layers %lld, heads %lld, kv_heads %lld, head_dim %lld\n",
              static_cast<long long>(c.dim), static_cast<long long>(c.hidden_dim),
              static_cast<long long>(c.n_layers), static_cast<long long>(c.n_heads),
              static_cast<long long>(c.n_kv_heads), static_cast<long long>(c.head_dim));
  std::printf("vocab %lld, context %lld, rms_eps %g, rope_theta %g%s, %s embeddings%s%s%s\n",
              static_cast<long long>(c.vocab_size), static_cast<long long>(c.context_length), c.rms_eps,
              c.rope_theta, c.rope_scaling.type == RopeScaling::Type::kLlama3 ? " (llama3 scaling)" : "",
              c.tied_embeddings ? "tied" : "untied", c.attn_qkv_bias ? ", q/k/v biases" : "",
              c.attn_qk_norm ? ", per-head q/k norms" : "",
              c.sliding_window > 0 ? cat(", sliding window ", c.sliding_window).c_str() : "");
  std::printf("parameters    %lld\n", static_cast<long long>(ckpt.parameter_count()));
  std::printf("bytes         %llu (%s)\n", static_cast<unsigned long long>(ckpt.tensor_bytes()),
              format_bytes(static_cast<int64_t>(ckpt.tensor_bytes())).c_str());
  if (ckpt.vocab) {
    const Vocab& v = *ckpt.vocab;
    std::printf("vocab         %s/%s, %lld tokens, bos %d, eos %d\n", v.model.c_str(), v.pre.c_str(),
                static_cast<long long>(v.size()), v.bos_id, v.eos_id);
  } else {
    std::printf("vocab         none (pass --tokenizer)\n");
  }
  std::printf("tensors       %zu\n", ckpt.tensors.size());
  for (const auto& [name, t] : ckpt.tensors)
    std::printf("  %-28s %-6s %-14s %zu\n", name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                shape_string(t.shape).c_str(), t.nbytes);
}

}  // namespace

Command add_info_command(CLI::App& parent) {
  auto opts = std::make_shared<InfoOptions>();
  Command cmd;
  cmd.app = parent.add_subcommand("info", "Describe a model from its headers (no weights are read)");
  cmd.app->add_option("MODEL", opts->model, "GGUF file, llama2.c .bin, or Hugging Face folder")->required();
  cmd.app->add_option("--tokenizer", opts->tokenizer, "Vocabulary from elsewhere (tokenizer.bin/.json/GGUF)");
  cmd.app->add_flag("--json", opts->json, "One JSON object on stdout");
  cmd.run = [opts] {
    Checkpoint ckpt = load_model(opts->model, opts->tokenizer);
    if (opts->json)
      std::cout << info_json(ckpt).dump(2) << "\n";
    else
      print_human(ckpt);
  };
  return cmd;
}

}  // namespace lmpack::cli
