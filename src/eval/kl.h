// KL divergence of the current model from a saved base run (--base FILE).
//
// Per scored position: KL(base || current) = sum_v p_base(v) (log p_base(v) -
// log p_cur(v)), in double. Summaries: mean, median, 99th percentile (nearest
// rank), top-1 agreement (argmax equal) and the base run's own perplexity.
// The base file must come from the same scored tokens (same count and
// targets hash) and the same vocabulary size; otherwise Error names the file
// and both values before any forward work is done.
#pragma once

#include <cstdint>
#include <vector>

#include "eval/logits_file.h"

namespace lmpack {

struct KlStats {
  int64_t count = 0;
  double kl_mean = 0.0;
  double kl_median = 0.0;
  double kl_p99 = 0.0;
  double kl_max = 0.0;
  double top1_agreement = 0.0;  // fraction in [0, 1]
  double base_perplexity = 0.0;
};

// sum_v exp(base[v]) (base[v] - cur[v]); terms with p_base = 0 contribute 0.
double kl_divergence(const float* base_log_probs, const float* cur_log_probs, int64_t vocab);
int64_t argmax(const float* values, int64_t n);  // first index of the maximum

// Throws Error(base.path(), ...) unless vocab, count and targets hash agree.
void check_logits_compatible(const LogitsFile& base, int64_t vocab, int64_t count, uint64_t targets_hash);

class KlAccumulator {
 public:
  // Validates with check_logits_compatible; `base` must outlive this object.
  KlAccumulator(const LogitsFile& base, int64_t vocab, int64_t count, uint64_t targets_hash);
  // The next scored position, in the same order as the base file.
  void add(int32_t target, const float* log_probs);
  KlStats finish() const;  // throws if fewer positions than the base file came

 private:
  const LogitsFile& base_;
  int64_t next_ = 0;
  int64_t top1_equal_ = 0;
  double base_nll_ = 0.0;
  std::vector<double> kl_;
};

// The whole comparison of two saved files (same validation as above).
KlStats compare_logits_files(const LogitsFile& base, const LogitsFile& current);

}  // namespace lmpack
