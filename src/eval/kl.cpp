#include "eval/kl.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lmpack {

double kl_divergence(const float* base_log_probs, const float* cur_log_probs, int64_t vocab) {
  double kl = 0.0;
  for (int64_t v = 0; v < vocab; ++v) {
    const double lb = base_log_probs[v];
    const double p = std::exp(lb);
    if (p == 0.0) continue;
    kl += p * (lb - static_cast<double>(cur_log_probs[v]));
  }
  return kl;
}

int64_t argmax(const float* values, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (values[i] > values[best]) best = i;
  return best;
}

void check_logits_compatible(const LogitsFile& base, int64_t vocab, int64_t count, uint64_t targets_hash) {
  if (base.vocab() != vocab)
    throw Error(base.path(), cat("vocab size ", base.vocab(), " does not match the model's ", vocab));
  if (base.count() != count)
    throw Error(base.path(), cat("holds ", base.count(), " scored positions, this evaluation scores ", count,
                                 " (different text, options or tokenization)"));
  if (base.targets_hash() != targets_hash)
    throw Error(base.path(), "scored token ids differ from this evaluation's (different text or tokenization)");
}

KlAccumulator::KlAccumulator(const LogitsFile& base, int64_t vocab, int64_t count, uint64_t targets_hash)
    : base_(base) {
  check_logits_compatible(base, vocab, count, targets_hash);
  kl_.reserve(static_cast<size_t>(count));
}

void KlAccumulator::add(int32_t target, const float* log_probs) {
  if (next_ >= base_.count())
    throw Error(base_.path(), cat("has only ", base_.count(), " positions; more were scored"));
  const int32_t base_target = base_.target(next_);
  if (base_target != target)
    throw Error(base_.path(), cat("position ", next_, " has target ", base_target, ", this evaluation has ", target));
  const float* base_lp = base_.log_probs(next_);
  const int64_t vocab = base_.vocab();
  kl_.push_back(kl_divergence(base_lp, log_probs, vocab));
  if (argmax(base_lp, vocab) == argmax(log_probs, vocab)) ++top1_equal_;
  base_nll_ -= static_cast<double>(base_lp[target]);
  ++next_;
}

KlStats KlAccumulator::finish() const {
  if (next_ != base_.count())
    throw Error(base_.path(), cat("has ", base_.count(), " positions, only ", next_, " were compared"));
  KlStats s;
  s.count = next_;
  if (next_ == 0) return s;
  std::vector<double> sorted = kl_;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  double sum = 0.0;
  for (double k : sorted) sum += k;
  s.kl_mean = sum / static_cast<double>(n);
  s.kl_median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  size_t rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(n)));  // nearest rank, 1-based
  s.kl_p99 = sorted[std::clamp<size_t>(rank, 1, n) - 1];
  s.kl_max = sorted.back();
  s.top1_agreement = static_cast<double>(top1_equal_) / static_cast<double>(n);
  s.base_perplexity = std::exp(base_nll_ / static_cast<double>(n));
  return s;
}

KlStats compare_logits_files(const LogitsFile& base, const LogitsFile& current) {
  KlAccumulator acc(base, current.vocab(), current.count(), current.targets_hash());
  for (int64_t i = 0; i < current.count(); ++i) acc.add(current.target(i), current.log_probs(i));
  return acc.finish();
}

}  // namespace lmpack
