// Losses of training over rows of logits (or of hidden states), each
// returning the loss and writing its gradient with respect to its input
// (what TrainingPass::backward takes).
#pragma once

#include <cstdint>

namespace lmpack {

// Next-token cross-entropy, averaged over the rows that have a target
// (targets[r] < 0: the row is left out and its gradient is 0):
//   loss = mean_r -log softmax(logits_r)[targets_r]
//   dlogits_r = (softmax(logits_r) - onehot(targets_r)) / rows_with_target
// logits, dlogits: [rows, vocab] (dlogits may be logits); targets: [rows].
// Returns 0 (and zero gradients) when no row has a target. The sums are in
// double. Throws Error("targets", ...) for a target outside [0, vocab).
double cross_entropy(float* dlogits, const float* logits, const int32_t* targets, int64_t rows, int64_t vocab);

// Knowledge distillation (Hinton, Vinyals, Dean, "Distilling the Knowledge in
// a Neural Network", 2015): KL(teacher || student) of the distributions
// softened by the temperature T, scaled by T^2 so that the gradient keeps its
// size as T changes, averaged over rows:
//   p = softmax(teacher_r / T), q = softmax(student_r / T)
//   loss = T^2 mean_r sum_i p_i (log p_i - log q_i)
//   dlogits_r = T (q - p) / rows
// student, teacher, dlogits: [rows, vocab] (dlogits may be student). Sums in
// double. Throws Error("temperature", ...) unless T > 0.
double distillation_kl(float* dlogits, const float* student, const float* teacher, int64_t rows, int64_t vocab,
                       float temperature);

// The same against a teacher known by its top k tokens per row (a teacher
// cache, train/teacher_cache.h): p is the teacher's distribution at T over
// those k tokens, renormalised, and 0 elsewhere:
//   p_j = exp(lp_j / T) / sum_{i in top k} exp(lp_i / T) for j in the row's top k
//   loss = T^2 mean_r sum_{j in top k} p_j (log p_j - log q_j),  dlogits_r = T (q - p) / rows
// ids, logprobs: [rows, k] (log-probabilities at T = 1).
double distillation_kl_top_k(float* dlogits, const float* student, const int32_t* ids, const float* logprobs,
                             int64_t rows, int64_t vocab, int64_t k, float temperature);

// Hidden-state matching (FitNets, Romero et al. 2015; the intermediate-state
// loss of TinyBERT and of Minitron's distillation): the squared distance of
// the student's residual stream to the teacher's, relative to the teacher's,
// so that layers of any scale weigh alike:
//   loss = sum_r |s_r - t_r|^2 / sum_r |t_r|^2,  dstudent = 2 (s - t) / sum_r |t_r|^2
// student, teacher, dstudent: [rows, dim] (dstudent may not be teacher). Sums
// in double. Returns 0 (and zero gradients) when the teacher's states are all 0.
double hidden_state_distance(float* dstudent, const float* student, const float* teacher, int64_t rows, int64_t dim);

}  // namespace lmpack
