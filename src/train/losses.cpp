#include "train/losses.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace lmpack {
namespace {

// out[i] = log softmax(z / t)[i], in double; z: [n].
void log_softmax_row(const float* z, int64_t n, double t, double* out) {
  double max = z[0];
  for (int64_t i = 1; i < n; ++i) max = std::max(max, static_cast<double>(z[i]));
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp((z[i] - max) / t);
  const double log_sum = std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[i] = (z[i] - max) / t - log_sum;
}

void check_temperature(float temperature) {
  if (!(temperature > 0.0f) || !std::isfinite(temperature))
    throw Error("temperature", cat("must be a positive number, got ", temperature));
}

}  // namespace

double cross_entropy(float* dlogits, const float* logits, const int32_t* targets, int64_t rows, int64_t vocab) {
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (targets[r] >= vocab)
      throw Error("targets", cat("target ", targets[r], " at row ", r, " is outside the vocabulary [0, ", vocab, ")"));
    if (targets[r] >= 0) ++counted;
  }
  const double inv = counted > 0 ? 1.0 / static_cast<double>(counted) : 0.0;
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* z = logits + r * vocab;
    float* d = dlogits + r * vocab;
    if (targets[r] < 0) {
      std::fill(d, d + vocab, 0.0f);
      continue;
    }
    const float max = *std::max_element(z, z + vocab);
    double sum = 0.0;
    for (int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(z[i] - max));
    const double log_sum = std::log(sum) + max;
    total += log_sum - z[targets[r]];
    for (int64_t i = 0; i < vocab; ++i) d[i] = static_cast<float>(std::exp(static_cast<double>(z[i]) - log_sum) * inv);
    d[targets[r]] -= static_cast<float>(inv);
  }
  return total * inv;
}

double distillation_kl(float* dlogits, const float* student, const float* teacher, int64_t rows, int64_t vocab,
                       float temperature) {
  check_temperature(temperature);
  if (rows == 0) return 0.0;
  const double t = temperature, inv_rows = 1.0 / static_cast<double>(rows);
  std::vector<double> log_p(static_cast<size_t>(vocab)), log_q(static_cast<size_t>(vocab));
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    log_softmax_row(teacher + r * vocab, vocab, t, log_p.data());
    log_softmax_row(student + r * vocab, vocab, t, log_q.data());
    float* d = dlogits + r * vocab;
    for (int64_t i = 0; i < vocab; ++i) {
      const double p = std::exp(log_p[i]), q = std::exp(log_q[i]);
      total += p * (log_p[i] - log_q[i]);
      d[i] = static_cast<float>(t * (q - p) * inv_rows);
    }
  }
  return t * t * total * inv_rows;
}

double distillation_kl_top_k(float* dlogits, const float* student, const int32_t* ids, const float* logprobs,
                             int64_t rows, int64_t vocab, int64_t k, float temperature) {
  check_temperature(temperature);
  if (rows == 0) return 0.0;
  const double t = temperature, inv_rows = 1.0 / static_cast<double>(rows);
  std::vector<double> log_q(static_cast<size_t>(vocab)), log_p(static_cast<size_t>(k));
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    log_softmax_row(student + r * vocab, vocab, t, log_q.data());
    log_softmax_row(logprobs + r * k, k, t, log_p.data());  // the top k renormalised at T
    float* d = dlogits + r * vocab;
    for (int64_t i = 0; i < vocab; ++i) d[i] = static_cast<float>(t * std::exp(log_q[i]) * inv_rows);
    for (int64_t j = 0; j < k; ++j) {
      const int32_t id = ids[r * k + j];
      const double p = std::exp(log_p[j]);
      total += p * (log_p[j] - log_q[id]);
      d[id] -= static_cast<float>(t * p * inv_rows);
    }
  }
  return t * t * total * inv_rows;
}

double hidden_state_distance(float* dstudent, const float* student, const float* teacher, int64_t rows, int64_t dim) {
  const int64_t n = rows * dim;
  double norm = 0.0, distance = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    norm += static_cast<double>(teacher[i]) * teacher[i];
    const double d = static_cast<double>(student[i]) - teacher[i];
    distance += d * d;
  }
  if (norm == 0.0) {
    std::fill(dstudent, dstudent + n, 0.0f);
    return 0.0;
  }
  const double scale = 2.0 / norm;
  for (int64_t i = 0; i < n; ++i)
    dstudent[i] = static_cast<float>(scale * (static_cast<double>(student[i]) - teacher[i]));
  return distance / norm;
}

}  // namespace lmpack
