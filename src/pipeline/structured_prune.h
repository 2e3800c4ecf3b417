// Structured pruning that changes shapes: attention heads (whole GQA groups),
// FFN channels and whole blocks are removed, giving a smaller dense model with
// an updated config that every writer (save_gguf, save_hf) and llama.cpp take.
//
// Importance, from one fp32 pass of the unpruned model over calibration
// windows (runtime/block_forward.h stages; the same math as the fast forward):
//   head h of layer l     mean over tokens of ‖o_h‖₂, o_h the head's attention
//                         output (its head_dim slice of attn_output's input) —
//                         Minitron's activation-magnitude head score
//                         (Muralidharan et al., "Compact Language Models via
//                         Pruning and Knowledge Distillation", 2024), with
//                         mean aggregation over batch and sequence.
//   KV group g            sum of the scores of its n_heads/n_kv_heads query heads.
//   FFN channel j         mean over tokens of |act_j|, act = silu(gate)·up
//                         (ffn_down's input; Minitron's neuron score), times
//                         ‖W_down[:, j]‖₂ when ffn_down_norm is set (then the
//                         score is the mean size of the channel's contribution
//                         to the residual stream).
//   expert e of layer l   (a mixture of experts) the fraction of tokens the
//                         router sends it: the least routed experts go.
//   block l               Block Influence, ShortGPT (Men et al., "ShortGPT:
//                         Layers in Large Language Models are More Redundant
//                         Than You Expect", 2024): 1 − mean over tokens of
//                         cos(x_in, x_out) of the residual stream entering and
//                         leaving the block (a token whose x_in or x_out is 0
//                         counts as cos = 1).
// Objective: remove the parts with the lowest importance, one shot (all scores
// from the unpruned model; no iterative re-scoring, no retraining).
// Deviations: heads are scored on the unpruned model even when blocks are
// dropped too; with GQA only whole groups are removed, and the same number in
// every layer (the config is global); among equal scores the lower index is
// removed first.
//
// Removal (no re-rotation needed: RoPE acts within a head, heads are
// contiguous row ranges of head_dim in q/k/v, the adjacent-pair layout of
// model/checkpoint.h): a KV group loses its k/v rows, its query heads' q rows
// and their attn_output columns; biases follow their rows. An FFN channel
// loses its gate/up row and its down column. A dropped block's tensors go and
// the blocks after it are renumbered. A removed expert loses its matrices and
// its router row; the experts after it are renumbered. Tensors that lose nothing (non-block
// tensors, norms, and a block's attention or FFN matrices when that layer
// keeps all its heads or channels) stay views of the input, in their stored
// type; only the cut tensors are decoded, cut and kept in F32. Dropping blocks
// alone therefore copies nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/checkpoint.h"

namespace lmpack {

struct StructuredPruneOptions {
  int64_t heads = 0;          // --heads K: query heads removed per layer (a multiple of the GQA group size)
  int64_t ffn_width = 0;      // --ffn-width F: FFN channels kept per layer; 0: width unchanged
  int64_t drop_blocks = 0;    // --drop-blocks N: blocks removed (at least one stays)
  bool ffn_down_norm = false; // FFN channel score × ‖W_down[:, j]‖₂
  int64_t drop_experts = 0;   // --drop-experts E: experts removed per layer (mixtures of experts; one stays)
};

// Throws Error("structure.heads" / "structure.ffn_width" / "structure.drop_blocks", ...) for values
// the config cannot take: K < 0, K not a multiple of n_heads/n_kv_heads, K
// leaving no head; F < 0 or F > hidden_dim; N < 0 or N >= n_layers;
// "structure.drop_experts" for E < 0, E >= n_experts or a dense model;
// "structure.ffn_width" for a mixture of experts (expert channels are not cut).
void validate_structured_prune_options(const ModelConfig& config, const StructuredPruneOptions& options);

struct StructuredScores {
  std::vector<std::vector<double>> heads;  // [n_layers][n_heads] mean ‖head output‖₂
  std::vector<std::vector<double>> groups; // [n_layers][n_kv_heads] sum over the group's query heads
  std::vector<std::vector<double>> ffn;    // [n_layers][hidden_dim] channel scores
  std::vector<double> blocks;              // [n_layers] Block Influence
  std::vector<std::vector<double>> experts;  // [n_layers][n_experts] fraction of tokens routed (MoE; else empty)
  int64_t tokens = 0;                      // calibration tokens scored
};

// Scores of every head, channel and block over `windows` (token ids, all of
// one length; each window starts at position 0). Deterministic for a given
// thread count. Throws Error("calibration", ...) for no windows, windows of
// different lengths or token ids outside the vocabulary.
StructuredScores structured_scores(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                   bool ffn_down_norm = false);

// What stays, in original indices (ascending).
struct StructuredPlan {
  std::vector<int64_t> kept_blocks;                  // [n_layers - N]
  std::vector<std::vector<int64_t>> kept_kv_heads;   // [n_layers][n_kv_heads - K/group]
  std::vector<std::vector<int64_t>> kept_channels;   // [n_layers][F or hidden_dim]
  std::vector<std::vector<int64_t>> kept_experts;    // [n_layers][n_experts - E] (MoE; else empty)
};

// The lowest-scoring parts removed as the options ask (validated first).
// Plans hold every original layer, dropped ones included.
StructuredPlan plan_structured_prune(const ModelConfig& config, const StructuredScores& scores,
                                     const StructuredPruneOptions& options);

// The checkpoint with only the plan's parts (cut tensors F32 in owned buffers,
// the rest views of ckpt's, whose mappings it keeps alive), config updated (n_layers, n_heads, n_kv_heads, hidden_dim) and
// validated; vocabulary and non-block tensors carried over. Throws
// Error(ckpt.path, ...) for a plan that does not fit the checkpoint (index out
// of range, repeated, unsorted, uneven head or channel counts across layers).
Checkpoint apply_structured_prune(const Checkpoint& ckpt, const StructuredPlan& plan);

struct StructuredPruneReport {
  StructuredScores scores;
  StructuredPlan plan;
  std::vector<int64_t> dropped_blocks;                // original indices
  std::vector<std::vector<int64_t>> removed_heads;    // [n_layers] query heads removed (original indices)
  std::vector<std::vector<int64_t>> removed_channels; // [n_layers] FFN channels removed
  std::vector<std::vector<int64_t>> removed_experts;  // [n_layers] experts removed (MoE)
  int64_t parameters_before = 0, parameters_after = 0;
  ModelConfig config_before, config_after;
};

struct StructuredPruneResult {
  Checkpoint checkpoint;
  StructuredPruneReport report;
};

// validate options → structured_scores → plan_structured_prune →
// apply_structured_prune. Options are checked before any forward work.
StructuredPruneResult structured_prune(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                       const StructuredPruneOptions& options);

// A human-readable summary of the report (one line per layer plus totals).
std::string format_structured_prune_report(const StructuredPruneReport& report);

}  // namespace lmpack
