// What a sweep measured (`lmpack sweep`, pipeline/sweep.h): the model, the
// evaluation, and one record per compressed file (a llama.cpp mix or a size
// target, made by one method), as results.json holds it and report.html
// draws it. Pure data and its JSON; nothing here runs a model.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lmpack {

struct SweepLayer {
  std::string name;       // blk.N.attn_q.weight
  std::string type;       // its GGUF type in the run
  double relative_error;  // the calibration engine's relative output error on the calibration windows
};

struct SweepRun {
  std::string name;     // "imatrix Q4_K_M", "gptq 4.5 bpw": unique in a sweep
  std::string method;   // rtn | imatrix | gptq
  std::string kind;     // "mix" (a llama.cpp mix) | "target" (a bits-per-weight target)
  std::string setting;  // the mix's name, or the target ("4.5")
  uint64_t file_bytes = 0;
  uint64_t tensor_bytes = 0;
  double bits_per_weight = 0.0;  // tensor_bytes x 8 / parameters
  double perplexity = 0.0;
  double kl_mean = 0.0;
  double kl_p99 = 0.0;
  double top1 = 0.0;  // fraction in [0, 1]
  double predicted_kl = std::numeric_limits<double>::quiet_NaN();  // a target's allocation; NaN for a mix
  double seconds = 0.0;       // to compress
  double eval_seconds = 0.0;  // to evaluate
  std::vector<SweepLayer> layers;
};

// A run the sweep could not make, and why (a size target below the smallest
// model the candidate types make).
struct SweepSkip {
  std::string name;    // as the run would have been named
  std::string reason;  // one line
};

struct SweepModelInfo {
  std::string name;  // general.name / file name
  std::string path;
  std::string architecture;
  int64_t parameters = 0;
  int64_t layers = 0, dim = 0, hidden_dim = 0, heads = 0, kv_heads = 0, vocab = 0, context = 0;
  uint64_t input_bytes = 0;  // the tensors as read
};

struct SweepResults {
  SweepModelInfo model;
  std::vector<std::string> calibration;  // text files
  int64_t calibration_windows = 0, calibration_ctx = 0;
  std::string eval_text;
  std::string eval_cut;       // "documents split on '<|endoftext|>', first 100, ctx 256"
  int64_t eval_tokens = 0;    // scored positions
  double base_perplexity = 0.0;
  std::vector<SweepRun> runs;
  std::vector<SweepSkip> skipped;
  double seconds = 0.0;
  int threads = 1;
  std::string created;  // UTC time, ISO 8601
};

// The model's size in F32 and F16: parameters x 4 and x 2 bytes.
inline double f32_bytes(const SweepModelInfo& m) { return 4.0 * static_cast<double>(m.parameters); }
inline double f16_bytes(const SweepModelInfo& m) { return 2.0 * static_cast<double>(m.parameters); }

// Quality kept, as the report states it: base perplexity / the run's (1 = none lost).
inline double quality_kept(const SweepResults& r, const SweepRun& run) {
  return run.perplexity > 0.0 ? r.base_perplexity / run.perplexity : 0.0;
}

// Indices of the runs of `method` on its size/KL frontier (no other run of
// that method is at most as large with a lower KL), by bits per weight.
std::vector<size_t> pareto_front(const SweepResults& r, const std::string& method);

// The methods in the order their first run appears.
std::vector<std::string> sweep_methods(const SweepResults& r);

// One of the promises the field makes, checked on these runs.
struct SweepClaim {
  std::string claim;      // "4-bit keeps >= 95% of quality"
  std::string verdict;    // "holds", "does not hold", "not measured"
  std::string evidence;   // the run and its figures, or why none
};
// "4-bit keeps >= 95% of quality" (the best run at <= 4.5 bpw, quality kept
// = base perplexity / its perplexity), and the best quality at 10x and 20x
// compression against F32 and against F16 (runs at <= 32/10, 32/20, 16/10,
// 16/20 bits per weight).
std::vector<SweepClaim> check_claims(const SweepResults& r);

nlohmann::json sweep_results_json(const SweepResults& r);
// Error(path, ...) for a document that is not sweep results.
SweepResults sweep_results_from_json(const nlohmann::json& j, const std::string& path);

}  // namespace lmpack
