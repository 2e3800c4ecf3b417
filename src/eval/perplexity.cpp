#include "eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/hash.h"
#include "core/progress.h"
#include "runtime/non_finite.h"

namespace lmpack {

std::vector<EvalSequence> build_windows(const std::vector<int32_t>& tokens, int32_t bos_id, int64_t ctx,
                                        int64_t chunks, bool score_second_half,
                                        const std::string& where) {
  if (ctx < 2) throw Error("ctx", cat("must be at least 2 to score anything, got ", ctx));
  if (chunks < 0) throw Error("chunks", cat("must be >= 0, got ", chunks));
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t need = score_second_half ? 2 * ctx : ctx;
  if (n < need)
    throw Error(where, cat("the text has ", count_of(n, "token"), "; a window of ", ctx,
                           score_second_half ? " scored on its second half needs " : " needs ", need,
                           ": give more text or a smaller `ctx`"));
  int64_t windows = n / ctx;
  if (chunks > 0) windows = std::min(windows, chunks);
  const int64_t first_target = score_second_half ? ctx / 2 + 1 : 1;
  std::vector<EvalSequence> out;
  out.reserve(static_cast<size_t>(windows));
  for (int64_t w = 0; w < windows; ++w) {
    EvalSequence seq;
    seq.tokens.assign(tokens.begin() + w * ctx, tokens.begin() + (w + 1) * ctx);
    if (bos_id >= 0) seq.tokens[0] = bos_id;
    seq.first_target = first_target;
    out.push_back(std::move(seq));
  }
  return out;
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::vector<std::string> split_documents(std::string_view text, std::string_view separator,
                                         int64_t max_docs) {
  if (separator.empty()) throw Error("doc_separator", "must not be empty");
  if (max_docs < 0) throw Error("max_docs", cat("must be >= 0, got ", max_docs));
  std::vector<std::string> docs;
  size_t start = 0;
  while (start <= text.size()) {
    if (max_docs > 0 && static_cast<int64_t>(docs.size()) >= max_docs) break;
    size_t hit = text.find(separator, start);
    size_t end = hit == std::string_view::npos ? text.size() : hit;
    std::string_view doc = strip(text.substr(start, end - start));
    if (!doc.empty()) docs.emplace_back(doc);
    if (hit == std::string_view::npos) break;
    start = hit + separator.size();
  }
  return docs;
}

std::vector<EvalSequence> build_documents(const std::vector<std::string>& docs, const Tokenizer& tokenizer,
                                          int64_t ctx) {
  if (ctx < 2) throw Error("ctx", cat("must be at least 2 to score anything, got ", ctx));
  const int32_t bos = tokenizer.vocab().bos_id;
  std::vector<EvalSequence> out;
  out.reserve(docs.size());
  for (const std::string& doc : docs) {
    EvalSequence seq;
    if (bos >= 0) seq.tokens.push_back(bos);
    std::vector<int32_t> ids = tokenizer.encode(doc, /*add_bos=*/false);
    seq.tokens.insert(seq.tokens.end(), ids.begin(), ids.end());
    if (static_cast<int64_t>(seq.tokens.size()) > ctx) seq.tokens.resize(static_cast<size_t>(ctx));
    // Without a BOS the first token has nothing to be predicted from.
    seq.first_target = 1;
    if (seq.scored() > 0) out.push_back(std::move(seq));
  }
  return out;
}

std::vector<EvalSequence> build_eval_sequences(std::string_view text, const Tokenizer& tokenizer,
                                               const EvalOptions& options, const std::string& where) {
  LMPACK_CHECK(options.ctx > 0, "ctx must be resolved before building sequences");
  if (options.doc_separator.empty()) {
    std::vector<int32_t> tokens = tokenizer.encode(text, /*add_bos=*/true);
    return build_windows(tokens, tokenizer.vocab().bos_id, options.ctx, options.chunks,
                         options.score_second_half, where);
  }
  std::vector<std::string> docs = split_documents(text, options.doc_separator, options.max_docs);
  std::vector<EvalSequence> seqs = build_documents(docs, tokenizer, options.ctx);
  if (seqs.empty())
    throw Error(where, cat("no document with a token to score (", docs.size(), " non-empty documents after splitting on '",
                           options.doc_separator, "')"));
  return seqs;
}

std::vector<int32_t> scored_targets(const std::vector<EvalSequence>& sequences) {
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(count_scored(sequences)));
  for (const EvalSequence& s : sequences)
    for (size_t t = static_cast<size_t>(s.first_target); t < s.tokens.size(); ++t) out.push_back(s.tokens[t]);
  return out;
}

uint64_t hash_targets(const std::vector<int32_t>& targets) { return fnv1a64_ids(targets); }

int64_t count_scored(const std::vector<EvalSequence>& sequences) {
  int64_t n = 0;
  for (const EvalSequence& s : sequences) n += s.scored();
  return n;
}

namespace {

// log(sum exp(row)), max-subtracted, accumulated in double.
double logsumexp(const float* row, int64_t vocab) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t v = 0; v < vocab; ++v) mx = std::max(mx, row[v]);
  double sum = 0.0;
  for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - mx);
  return static_cast<double>(mx) + std::log(sum);
}

}  // namespace

int64_t default_eval_ctx(int64_t model_context_length) {
  return std::min(model_context_length, kDefaultEvalCtxCap);
}

double log_softmax(float* out, const float* logits, int64_t vocab) {
  const double lse = logsumexp(logits, vocab);
  for (int64_t v = 0; v < vocab; ++v) out[v] = static_cast<float>(static_cast<double>(logits[v]) - lse);
  return lse;
}

PerplexityResult evaluate_perplexity(ForwardPass& forward, const std::vector<EvalSequence>& sequences,
                                     const ScoredPositionSink& sink) {
  const int64_t vocab = forward.config().vocab_size;
  int64_t longest = 0;
  for (const EvalSequence& s : sequences) longest = std::max<int64_t>(longest, s.tokens.size());
  if (longest > forward.max_context())
    throw Error("ctx", cat("a sequence of ", longest, " tokens does not fit the forward pass's context of ",
                           forward.max_context()));
  // Positions go through the forward pass kLogitChunk at a time (the KV cache
  // carries the sequence on), so the logits buffer stays kLogitChunk x vocab
  // whatever the context: 512 x 128256 floats is 262 MB, where a whole
  // 131072-token window would need 67 GB.
  const int64_t chunk = std::min(longest, kLogitChunk);
  std::vector<float> logits(static_cast<size_t>(chunk * vocab));
  std::vector<float> log_probs(static_cast<size_t>(vocab));

  PerplexityResult r;
  Progress progress("eval", static_cast<int64_t>(sequences.size()), "seq");
  for (const EvalSequence& s : sequences) {
    throw_if_interrupted();
    const int64_t n = static_cast<int64_t>(s.tokens.size());
    if (s.scored() == 0) continue;
    forward.reset();
    for (int64_t p0 = 0; p0 < n; p0 += chunk) {
      const int64_t m = std::min(chunk, n - p0);
      auto t0 = std::chrono::steady_clock::now();
      forward.forward(s.tokens.data() + p0, m, logits.data());
      r.forward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      // Row p - p0 holds the logits at position p, which predict token p + 1.
      for (int64_t t = std::max(s.first_target, p0 + 1); t <= p0 + m && t < n; ++t) {
        const float* row = logits.data() + (t - 1 - p0) * vocab;
        const int32_t target = s.tokens[static_cast<size_t>(t)];
        LMPACK_CHECK(target >= 0 && target < vocab, cat("target id ", target, " outside vocab ", vocab));
        const double lse = sink ? log_softmax(log_probs.data(), row, vocab) : logsumexp(row, vocab);
        const double nll = lse - static_cast<double>(row[target]);
        if (!std::isfinite(nll))  // never report "perplexity nan"
          throw Error(explain_non_finite(forward.weights(), cat("the log-probability of token ", t, " of sequence ",
                                                                r.sequences + 1, " is ", nll)));
        r.nll_sum += nll;
        if (sink) sink(target, log_probs.data(), vocab);
        ++r.scored;
      }
    }
    r.forward_tokens += n;
    ++r.sequences;
    progress.update(r.sequences);
  }
  progress.finish();
  r.perplexity = r.scored > 0 ? std::exp(r.nll_sum / static_cast<double>(r.scored)) : 0.0;
  r.tokens_per_second = r.forward_seconds > 0 ? static_cast<double>(r.forward_tokens) / r.forward_seconds : 0.0;
  return r;
}

}  // namespace lmpack
