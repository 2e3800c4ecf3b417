// Sweep results: the frontier, the claims, JSON; see sweep_results.h.
#include "report/sweep_results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace lmpack {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The best run (lowest KL) at or below `max_bpw`, or nullptr.
const SweepRun* best_within(const SweepResults& r, double max_bpw) {
  const SweepRun* best = nullptr;
  for (const SweepRun& run : r.runs)
    if (run.bits_per_weight <= max_bpw + 1e-9 && (best == nullptr || run.kl_mean < best->kl_mean)) best = &run;
  return best;
}

std::string describe_run(const SweepResults& r, const SweepRun& run) {
  return run.name + ": " + fixed(run.bits_per_weight, 3) + " bpw, quality kept " + fixed(100.0 * quality_kept(r, run), 2) +
         "% (perplexity " + fixed(run.perplexity, 4) + " vs " + fixed(r.base_perplexity, 4) + "), top-1 " +
         fixed(100.0 * run.top1, 2) + "%, KL " + fixed(run.kl_mean, 5);
}

}  // namespace

std::vector<std::string> sweep_methods(const SweepResults& r) {
  std::vector<std::string> out;
  for (const SweepRun& run : r.runs)
    if (std::find(out.begin(), out.end(), run.method) == out.end()) out.push_back(run.method);
  return out;
}

std::vector<size_t> pareto_front(const SweepResults& r, const std::string& method) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < r.runs.size(); ++i)
    if (r.runs[i].method == method) idx.push_back(i);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const SweepRun &x = r.runs[a], &y = r.runs[b];
    return x.bits_per_weight != y.bits_per_weight ? x.bits_per_weight < y.bits_per_weight : x.kl_mean < y.kl_mean;
  });
  std::vector<size_t> front;
  double best = std::numeric_limits<double>::infinity();
  for (size_t i : idx)
    if (r.runs[i].kl_mean < best) {
      best = r.runs[i].kl_mean;
      front.push_back(i);
    }
  return front;
}

std::vector<SweepClaim> check_claims(const SweepResults& r) {
  std::vector<SweepClaim> out;
  {
    SweepClaim c;
    c.claim = "4-bit keeps >= 95% of quality (the best run at <= 4.5 bits per weight)";
    if (const SweepRun* best = best_within(r, 4.5)) {
      c.verdict = quality_kept(r, *best) >= 0.95 ? "holds" : "does not hold";
      c.evidence = describe_run(r, *best);
    } else {
      c.verdict = "not measured";
      c.evidence = "no run at <= 4.5 bits per weight";
    }
    out.push_back(c);
  }
  struct Ratio {
    double times;
    const char* against;
    double bits;
  };
  for (const Ratio& q : {Ratio{10, "F32", 32.0}, Ratio{20, "F32", 32.0}, Ratio{10, "F16", 16.0}, Ratio{20, "F16", 16.0}}) {
    SweepClaim c;
    const double max_bpw = q.bits / q.times;
    c.claim = "best quality at " + fixed(q.times, 0) + "x compression against " + q.against + " (<= " +
              fixed(max_bpw, 2) + " bits per weight)";
    if (const SweepRun* best = best_within(r, max_bpw)) {
      c.verdict = "reached";
      c.evidence = describe_run(r, *best);
    } else {
      c.verdict = "not reached";
      double least = std::numeric_limits<double>::infinity();
      for (const SweepRun& run : r.runs) least = std::min(least, run.bits_per_weight);
      c.evidence = r.runs.empty() ? "no runs"
                                  : "no run is that small: the smallest has " + fixed(least, 3) +
                                        " bits per weight (quantization alone stops near 2.6; pruning or a "
                                        "smaller distilled model would be needed)";
    }
    out.push_back(c);
  }
  return out;
}

nlohmann::json sweep_results_json(const SweepResults& r) {
  nlohmann::json j;
  const SweepModelInfo& m = r.model;
  j["model"] = {{"name", m.name},       {"path", m.path},         {"architecture", m.architecture},
                {"parameters", m.parameters}, {"layers", m.layers}, {"dim", m.dim},
                {"hidden_dim", m.hidden_dim}, {"heads", m.heads},   {"kv_heads", m.kv_heads},
                {"vocab", m.vocab},     {"context", m.context},   {"input_bytes", m.input_bytes}};
  j["calibration"] = {{"files", r.calibration}, {"windows", r.calibration_windows}, {"ctx", r.calibration_ctx}};
  j["eval"] = {{"text", r.eval_text}, {"cut", r.eval_cut}, {"tokens", r.eval_tokens}, {"base_perplexity", r.base_perplexity}};
  j["seconds"] = r.seconds;
  j["threads"] = r.threads;
  j["created"] = r.created;
  j["runs"] = nlohmann::json::array();
  for (const SweepRun& run : r.runs) {
    nlohmann::json x = {{"name", run.name},
                        {"method", run.method},
                        {"kind", run.kind},
                        {"setting", run.setting},
                        {"file_bytes", run.file_bytes},
                        {"tensor_bytes", run.tensor_bytes},
                        {"bits_per_weight", run.bits_per_weight},
                        {"perplexity", run.perplexity},
                        {"quality_kept", quality_kept(r, run)},
                        {"kl_mean", run.kl_mean},
                        {"kl_p99", run.kl_p99},
                        {"top1", run.top1},
                        {"seconds", run.seconds},
                        {"eval_seconds", run.eval_seconds}};
    x["predicted_kl"] = std::isnan(run.predicted_kl) ? nlohmann::json(nullptr) : nlohmann::json(run.predicted_kl);
    x["layers"] = nlohmann::json::array();
    for (const SweepLayer& l : run.layers)
      x["layers"].push_back({{"name", l.name}, {"type", l.type}, {"relative_error", l.relative_error}});
    j["runs"].push_back(x);
  }
  j["skipped"] = nlohmann::json::array();
  for (const SweepSkip& s : r.skipped) j["skipped"].push_back({{"name", s.name}, {"reason", s.reason}});
  j["frontier"] = nlohmann::json::object();
  for (const std::string& method : sweep_methods(r)) {
    nlohmann::json names = nlohmann::json::array();
    for (size_t i : pareto_front(r, method)) names.push_back(r.runs[i].name);
    j["frontier"][method] = names;
  }
  j["claims"] = nlohmann::json::array();
  for (const SweepClaim& c : check_claims(r))
    j["claims"].push_back({{"claim", c.claim}, {"verdict", c.verdict}, {"evidence", c.evidence}});
  return j;
}

SweepResults sweep_results_from_json(const nlohmann::json& j, const std::string& path) {
  try {
    SweepResults r;
    const auto& m = j.at("model");
    r.model.name = m.at("name").get<std::string>();
    r.model.path = m.at("path").get<std::string>();
    r.model.architecture = m.at("architecture").get<std::string>();
    r.model.parameters = m.at("parameters").get<int64_t>();
    r.model.layers = m.at("layers").get<int64_t>();
    r.model.dim = m.at("dim").get<int64_t>();
    r.model.hidden_dim = m.at("hidden_dim").get<int64_t>();
    r.model.heads = m.at("heads").get<int64_t>();
    r.model.kv_heads = m.at("kv_heads").get<int64_t>();
    r.model.vocab = m.at("vocab").get<int64_t>();
    r.model.context = m.at("context").get<int64_t>();
    r.model.input_bytes = m.at("input_bytes").get<uint64_t>();
    r.calibration = j.at("calibration").at("files").get<std::vector<std::string>>();
    r.calibration_windows = j.at("calibration").at("windows").get<int64_t>();
    r.calibration_ctx = j.at("calibration").at("ctx").get<int64_t>();
    r.eval_text = j.at("eval").at("text").get<std::string>();
    r.eval_cut = j.at("eval").at("cut").get<std::string>();
    r.eval_tokens = j.at("eval").at("tokens").get<int64_t>();
    r.base_perplexity = j.at("eval").at("base_perplexity").get<double>();
    r.seconds = j.at("seconds").get<double>();
    r.threads = j.at("threads").get<int>();
    r.created = j.at("created").get<std::string>();
    for (const auto& x : j.at("runs")) {
      SweepRun run;
      run.name = x.at("name").get<std::string>();
      run.method = x.at("method").get<std::string>();
      run.kind = x.at("kind").get<std::string>();
      run.setting = x.at("setting").get<std::string>();
      run.file_bytes = x.at("file_bytes").get<uint64_t>();
      run.tensor_bytes = x.at("tensor_bytes").get<uint64_t>();
      run.bits_per_weight = x.at("bits_per_weight").get<double>();
      run.perplexity = x.at("perplexity").get<double>();
      run.kl_mean = x.at("kl_mean").get<double>();
      run.kl_p99 = x.at("kl_p99").get<double>();
      run.top1 = x.at("top1").get<double>();
      if (!x.at("predicted_kl").is_null()) run.predicted_kl = x.at("predicted_kl").get<double>();
      run.seconds = x.at("seconds").get<double>();
      run.eval_seconds = x.at("eval_seconds").get<double>();
      for (const auto& l : x.at("layers"))
        run.layers.push_back(
            {l.at("name").get<std::string>(), l.at("type").get<std::string>(), l.at("relative_error").get<double>()});
      r.runs.push_back(std::move(run));
    }
    if (j.contains("skipped"))
      for (const auto& x : j.at("skipped"))
        r.skipped.push_back({x.at("name").get<std::string>(), x.at("reason").get<std::string>()});
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw Error(path, cat("not sweep results: ", e.what()));
  }
}

}  // namespace lmpack
