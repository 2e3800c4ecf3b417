// Perplexity: turning a text into evaluation sequences and scoring them
// through a ForwardPass.
//
// Two ways to cut a text:
//   windows    (no separator) the whole text is tokenized once with BOS, cut
//              into consecutive windows of ctx tokens whose first token is
//              replaced by BOS (llama.cpp's perplexity convention). Every next
//              token is scored, or with score_second_half only the targets at
//              positions [ctx/2 + 1, ctx), as llama.cpp's perplexity tool does.
//   documents  (doc_separator) the text is split on the separator, each piece
//              stripped of surrounding whitespace, empty ones dropped; each
//              document is BOS + encode(doc), cut to ctx tokens, and every token
//              after BOS is scored.
// Scoring: reset() per sequence, one forward() of the whole sequence, and the
// NLL of each scored target from a max-subtracted log-softmax, summed in
// double. perplexity = exp(total NLL / scored targets).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/forward.h"
#include "tokenizer/tokenizer.h"

namespace lmpack {

struct EvalOptions {
  int64_t ctx = 0;                // tokens per window / document cut; <= 0: the model's context
  int64_t chunks = 0;             // window mode: at most this many windows (0: all)
  std::string doc_separator;      // non-empty: document mode
  int64_t max_docs = 0;           // document mode: the first N documents (0: all)
  bool score_second_half = false; // window mode: score only [ctx/2, ctx) like llama.cpp
};

// One forward() worth of tokens. Target t (t in [first_target, tokens.size()))
// is predicted by the logits at position t - 1.
struct EvalSequence {
  std::vector<int32_t> tokens;
  int64_t first_target = 1;

  int64_t scored() const {
    int64_t n = static_cast<int64_t>(tokens.size()) - first_target;
    return n > 0 ? n : 0;
  }
};

// Window mode over already tokenized text (BOS at the start). `where` names the
// text in errors: "<where>: only N tokens, need at least M".
std::vector<EvalSequence> build_windows(const std::vector<int32_t>& tokens, int32_t bos_id, int64_t ctx,
                                        int64_t chunks, bool score_second_half,
                                        const std::string& where);

// Splits on `separator`, strips ASCII whitespace around each piece, drops the
// empty ones, keeps the first max_docs (0: all).
std::vector<std::string> split_documents(std::string_view text, std::string_view separator,
                                         int64_t max_docs);

// Document mode: BOS + encode(doc, no BOS), cut to ctx tokens.
std::vector<EvalSequence> build_documents(const std::vector<std::string>& docs, const Tokenizer& tokenizer,
                                          int64_t ctx);

// Either mode, from options (options.ctx must already be resolved, > 0).
// Throws Error(where, ...) when nothing can be scored.
std::vector<EvalSequence> build_eval_sequences(std::string_view text, const Tokenizer& tokenizer,
                                               const EvalOptions& options, const std::string& where);

// Targets of every sequence in scoring order, and a 64-bit FNV-1a hash of them
// (identifies "the same scored tokens" across runs; see logits_file.h).
std::vector<int32_t> scored_targets(const std::vector<EvalSequence>& sequences);
uint64_t hash_targets(const std::vector<int32_t>& targets);
int64_t count_scored(const std::vector<EvalSequence>& sequences);

// Called once per scored position, in order: the target id and the
// log-softmax of the full vocabulary at the position that predicts it.
using ScoredPositionSink = std::function<void(int32_t target, const float* log_probs, int64_t vocab)>;

struct PerplexityResult {
  double nll_sum = 0.0;
  int64_t scored = 0;           // targets scored
  int64_t sequences = 0;        // windows or documents evaluated
  int64_t forward_tokens = 0;   // tokens pushed through forward()
  double forward_seconds = 0.0; // time inside forward()
  double perplexity = 0.0;
  double tokens_per_second = 0.0;  // forward_tokens / forward_seconds
};

// The window (document cut) length when none is asked for: the model's
// context, at most 4096 tokens (llama.cpp's perplexity default). A header's
// 131072 or 2^24 would otherwise ask for texts that long.
inline constexpr int64_t kDefaultEvalCtxCap = 4096;
int64_t default_eval_ctx(int64_t model_context_length);

// Positions per forward call when scoring: bounds the logits buffer.
inline constexpr int64_t kLogitChunk = 512;

// Scores every sequence; each must fit forward.max_context(). Progress goes to
// stderr; an interrupt stops between sequences with Error("interrupted", ...).
PerplexityResult evaluate_perplexity(ForwardPass& forward, const std::vector<EvalSequence>& sequences,
                                     const ScoredPositionSink& sink = {});

// out[v] = logits[v] - logsumexp(logits) for one row of `vocab` values;
// returns logsumexp (computed in double, max-subtracted).
double log_softmax(float* out, const float* logits, int64_t vocab);

}  // namespace lmpack
