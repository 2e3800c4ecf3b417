// Shared by the quality benches (calibration_quality_bench,
// pruning_quality_bench): issue 4/5's protocol on the TinyStories validation
// file — stories 200-999 are calibration text (joined with newlines, random
// windows, seed 0), stories 0-99 the evaluation set in document mode (as
// `lmpack eval --doc-separator '<|endoftext|>' --max-docs 100`) — and
// perplexity / KL / top-1 of a model against the F32 baseline's
// log-probabilities kept in memory.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "eval/calibration.h"
#include "eval/kl.h"
#include "eval/perplexity.h"
#include "model/checkpoint.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "tokenizer/tokenizer.h"

namespace lmpack::bench {

inline std::string quality_shared_dir() {
  const char* env = std::getenv("LMPACK_SHARED_DIR");
  return env ? env : std::string(LMPACK_SOURCE_DIR) + "/../shared";
}

// stories260K (default) or "ts-llama", with tok512.bin.
inline Checkpoint load_quality_model(const std::string& name) {
  const std::string root = quality_shared_dir() + "/models/";
  LoadOptions lo;
  lo.tokenizer_path = root + "stories260K/tok512.bin";
  return load_checkpoint(
      name == "ts-llama" ? root + "ts-llama-4.9M/ts-llama-4.9M.bin" : root + "stories260K/stories260K.bin", lo);
}

struct Quality {
  double perplexity = 0.0, kl_mean = 0.0, top1 = 0.0;
};

class QualityProtocol {
 public:
  // Reads the text, cuts calibration windows and evaluates the baseline.
  QualityProtocol(const Checkpoint& base, int64_t samples, int64_t calib_ctx) {
    std::unique_ptr<Tokenizer> tok = make_tokenizer(*base.vocab, base.path);
    std::ifstream in(quality_shared_dir() + "/data/tinystories-valid/tinystories_valid_first1000.txt",
                     std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    const std::vector<std::string> docs = split_documents(text.str(), "<|endoftext|>", 0);
    if (docs.size() < 1000) throw Error("tinystories", cat("expected 1000 stories, got ", docs.size()));
    ctx_ = std::min<int64_t>(512, base.config.context_length);
    eval_ = build_documents(std::vector<std::string>(docs.begin(), docs.begin() + 100), *tok, ctx_);
    std::string calib_text;
    for (size_t d = 200; d < 1000; ++d) calib_text += docs[d] + "\n";
    CalibrationOptions co;
    co.files = {"stories 200-999"};
    co.samples = samples;
    co.ctx = calib_ctx;
    windows_ = cut_calibration_windows(tok->encode(calib_text, false), base.vocab->bos_id, co);
    baseline_ = run(base, true);
  }

  const std::vector<std::vector<int32_t>>& windows() const { return windows_; }
  const Quality& baseline() const { return baseline_; }
  int64_t scored() const { return count_scored(eval_); }
  Quality evaluate(const Checkpoint& c) { return run(c, false); }

 private:
  Quality run(const Checkpoint& c, bool keep) {
    auto forward = make_fast_forward(build_weights(c), ctx_);
    const int64_t vocab = c.config.vocab_size;
    int64_t i = 0, top1 = 0;
    double kl = 0.0;
    const PerplexityResult r = evaluate_perplexity(*forward, eval_, [&](int32_t, const float* lp, int64_t) {
      if (keep) {
        log_probs_.insert(log_probs_.end(), lp, lp + vocab);
      } else {
        const float* b = log_probs_.data() + i * vocab;
        kl += kl_divergence(b, lp, vocab);
        top1 += argmax(b, vocab) == argmax(lp, vocab);
      }
      ++i;
    });
    if (keep) return {r.perplexity, 0.0, 1.0};
    return {r.perplexity, i ? kl / static_cast<double>(i) : 0.0, i ? static_cast<double>(top1) / i : 0.0};
  }

  int64_t ctx_ = 0;
  std::vector<EvalSequence> eval_;
  std::vector<std::vector<int32_t>> windows_;
  std::vector<float> log_probs_;  // [scored, vocab] of the baseline
  Quality baseline_;
};

}  // namespace lmpack::bench
