// Structured pruning of heads, FFN channels and blocks; see structured_prune.h
// for the scores (Minitron, ShortGPT), the objective and the deviations.
#include "pipeline/structured_prune.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <sstream>

#include "core/error.h"
#include "core/parallel.h"
#include "formats/decode.h"
#include "model/loaders.h"
#include "model/save_gguf.h"
#include "model/tensor_names.h"
#include "runtime/block_forward.h"
#include "runtime/weights.h"

namespace lmpack {
namespace {

constexpr int64_t kChunkTokens = 4096;   // tokens whose block intermediates are held at once
constexpr int64_t kChannelBlock = 256;   // FFN channels summed together (cache-friendly, thread-count independent)

// Indices of `scores` sorted by ascending score; ties: lower index first.
std::vector<int64_t> ascending(const std::vector<double>& scores) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[a] < scores[b]; });
  return order;
}

// The indices of [0, n) not removed, ascending: drops the first `remove` of `order`.
std::vector<int64_t> kept_after_removing(const std::vector<int64_t>& order, int64_t remove) {
  std::vector<int64_t> kept(order.begin() + remove, order.end());
  std::sort(kept.begin(), kept.end());
  return kept;
}

std::vector<int64_t> complement(const std::vector<int64_t>& kept, int64_t n) {
  std::vector<int64_t> out;
  size_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (k < kept.size() && kept[k] == i) ++k;
    else out.push_back(i);
  }
  return out;
}

struct LayerAccumulators {
  std::vector<double> heads, ffn, experts;  // [n_heads], [hidden], [n_experts] routed tokens
  double cos_sum = 0.0;
};

// Minitron's head score: ‖head output‖₂ per token, summed (the attention
// output stage's input holds every head's output side by side).
void add_head_norms(LayerAccumulators& acc, const BlockStage& st, const ModelConfig& c) {
  const int64_t hd = c.head_dim;
  parallel_for(c.n_heads, [&](int64_t h) {
    double s = 0.0;
    for (int64_t t = 0; t < st.tokens; ++t) {
      const float* o = st.input + t * st.cols + h * hd;
      double sq = 0.0;
      for (int64_t i = 0; i < hd; ++i) sq += static_cast<double>(o[i]) * o[i];
      s += std::sqrt(sq);
    }
    acc.heads[h] += s;
  });
}

// Minitron's neuron score: |activation| of each FFN channel (ffn_down's input), summed.
void add_channel_magnitudes(LayerAccumulators& acc, const BlockStage& st) {
  const int64_t hidden = st.cols;
  parallel_for((hidden + kChannelBlock - 1) / kChannelBlock, [&](int64_t blk) {
    const int64_t j0 = blk * kChannelBlock, j1 = std::min(hidden, j0 + kChannelBlock);
    std::vector<double> s(static_cast<size_t>(j1 - j0), 0.0);
    for (int64_t t = 0; t < st.tokens; ++t) {
      const float* a = st.input + t * hidden;
      for (int64_t j = j0; j < j1; ++j) s[j - j0] += std::fabs(a[j]);
    }
    for (int64_t j = j0; j < j1; ++j) acc.ffn[j] += s[j - j0];
  });
}

// One forward chunk of `n_win` windows through block b (the stage iterator
// of runtime/block_forward.h): x [tc, dim] becomes the block's output; head,
// channel and cosine sums are added to the accumulators.
void score_chunk(LayerAccumulators& acc, float* x, int64_t n_win, BlockF32& b, const ModelConfig& c,
                 const RopeTables& rope) {
  const int64_t tc = n_win * rope.ctx, dim = c.dim;
  const std::vector<float> x_in(x, x + tc * dim);  // [tc, dim]
  walk_block_stages(b, c, rope, n_win, x, /*add_ffn_output=*/true, [&](const BlockStage& st) {
    const std::string first = st.linears.front().suffix;
    if (first == "attn_output.weight") add_head_norms(acc, st, c);
    if (first == "ffn_down.weight") add_channel_magnitudes(acc, st);
    if (st.expert >= 0 && first.rfind("ffn_down_exps.", 0) == 0)  // once per expert
      acc.experts[static_cast<size_t>(st.expert)] += static_cast<double>(st.routed_tokens);
  });
  std::vector<double> cosines(static_cast<size_t>(tc));
  parallel_for(tc, [&](int64_t t) {
    const float* u = x_in.data() + t * dim;
    const float* v = x + t * dim;
    double uv = 0.0, uu = 0.0, vv = 0.0;
    for (int64_t i = 0; i < dim; ++i) {
      uv += static_cast<double>(u[i]) * v[i];
      uu += static_cast<double>(u[i]) * u[i];
      vv += static_cast<double>(v[i]) * v[i];
    }
    cosines[t] = uu > 0.0 && vv > 0.0 ? uv / std::sqrt(uu * vv) : 1.0;
  });
  for (double v : cosines) acc.cos_sum += v;
}

void check_plan_indices(const std::string& where, const std::vector<int64_t>& v, int64_t n, const char* what) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 0 || v[i] >= n) throw Error(where, cat("structured plan: ", what, " index ", v[i], " outside [0, ", n, ")"));
    if (i > 0 && v[i] <= v[i - 1])
      throw Error(where, cat("structured plan: ", what, " indices must be ascending and distinct"));
  }
}

std::vector<float> decode_all(const TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  decode_to_f32(v.data(), t.data, t.dtype, t.n_elements());
  return v;
}

// Row runs `idx` (each `run` rows starting at index*run) of a [rows, cols] matrix.
std::vector<float> gather_rows(const std::vector<float>& m, int64_t cols, const std::vector<int64_t>& idx, int64_t run) {
  std::vector<float> out;
  out.reserve(idx.size() * static_cast<size_t>(run * cols));
  for (int64_t i : idx) out.insert(out.end(), m.begin() + i * run * cols, m.begin() + (i + 1) * run * cols);
  return out;
}

// Column runs `idx` (each `run` columns starting at index*run) of a [rows, cols] matrix.
std::vector<float> gather_cols(const std::vector<float>& m, int64_t rows, int64_t cols, const std::vector<int64_t>& idx,
                               int64_t run) {
  const int64_t new_cols = static_cast<int64_t>(idx.size()) * run;
  std::vector<float> out(static_cast<size_t>(rows * new_cols));
  for (int64_t r = 0; r < rows; ++r)
    for (size_t k = 0; k < idx.size(); ++k)
      std::copy_n(m.begin() + r * cols + idx[k] * run, run, out.begin() + r * new_cols + static_cast<int64_t>(k) * run);
  return out;
}

}  // namespace

void validate_structured_prune_options(const ModelConfig& c, const StructuredPruneOptions& o) {
  if (o.drop_experts < 0) throw Error("structure.drop_experts", cat("must be >= 0, got ", o.drop_experts));
  if (o.drop_experts > 0 && !c.is_moe())
    throw Error("structure.drop_experts", "applies to a mixture of experts; this model has a dense FFN");
  if (c.is_moe() && o.drop_experts >= c.n_experts)
    throw Error("structure.drop_experts", cat("dropping ", o.drop_experts, " of ", c.n_experts,
                                              " experts per layer leaves none"));
  if (c.is_moe() && o.ffn_width != 0)
    throw Error("structure.ffn_width", "cutting the channels of a mixture of experts' experts is not supported; "
                                       "drop whole experts (drop_experts) instead");
  const int64_t group = c.n_heads / c.n_kv_heads;
  if (o.heads < 0) throw Error("structure.heads", cat("must be >= 0, got ", o.heads));
  if (o.heads % group != 0)
    throw Error("structure.heads", cat(o.heads, " is not a multiple of the GQA group size ", group, " (", c.n_heads,
                               " query heads share ", c.n_kv_heads, " KV heads); whole groups are removed"));
  if (o.heads >= c.n_heads)
    throw Error("structure.heads", cat("removing ", o.heads, " of ", c.n_heads, " heads per layer leaves none"));
  if (o.ffn_width < 0 || o.ffn_width > c.hidden_dim)
    throw Error("structure.ffn_width", cat(o.ffn_width, " channels to keep is outside [1, ", c.hidden_dim,
                                   "] (0 keeps the width)"));
  if (o.drop_blocks < 0) throw Error("structure.drop_blocks", cat("must be >= 0, got ", o.drop_blocks));
  if (o.drop_blocks >= c.n_layers)
    throw Error("structure.drop_blocks", cat("dropping ", o.drop_blocks, " of ", c.n_layers, " blocks leaves none"));
}

StructuredScores structured_scores(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                   bool ffn_down_norm) {
  const ModelConfig& c = ckpt.config;
  if (windows.empty()) throw Error("calibration", "no calibration windows");
  const int64_t ctx = static_cast<int64_t>(windows[0].size());
  if (ctx < 1) throw Error("calibration", "empty calibration window");
  for (const auto& w : windows)
    if (static_cast<int64_t>(w.size()) != ctx)
      throw Error("calibration", cat("calibration windows differ in length (", ctx, " and ", w.size(), " tokens)"));
  const int64_t n_windows = static_cast<int64_t>(windows.size()), T = n_windows * ctx, dim = c.dim;

  const std::shared_ptr<const ModelWeights> weights = build_weights(ckpt);
  const RopeTables rope = make_rope_tables(*weights, ctx);
  std::vector<float> x(static_cast<size_t>(T * dim));  // [T, dim] residual stream
  for (int64_t w = 0; w < n_windows; ++w)
    for (int64_t i = 0; i < ctx; ++i) {
      const int32_t tok = windows[w][i];
      if (tok < 0 || tok >= c.vocab_size)
        throw Error("calibration", cat("token id ", tok, " outside the vocabulary of ", c.vocab_size));
      weights->embed(x.data() + (w * ctx + i) * dim, tok);
    }

  StructuredScores s;
  s.tokens = T;
  const int64_t group = c.n_heads / c.n_kv_heads;
  const int64_t win_per_chunk = std::max<int64_t>(1, kChunkTokens / ctx);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    BlockF32 b = load_block_f32(ckpt, l);
    LayerAccumulators acc;
    acc.heads.assign(static_cast<size_t>(c.n_heads), 0.0);
    acc.ffn.assign(static_cast<size_t>(c.hidden_dim), 0.0);
    acc.experts.assign(static_cast<size_t>(c.n_experts), 0.0);
    for (int64_t w0 = 0; w0 < n_windows; w0 += win_per_chunk) {
      const int64_t nw = std::min(win_per_chunk, n_windows - w0);
      score_chunk(acc, x.data() + w0 * ctx * dim, nw, b, c, rope);
    }
    for (double& v : acc.heads) v /= static_cast<double>(T);
    for (double& v : acc.ffn) v /= static_cast<double>(T);
    for (double& v : acc.experts) v /= static_cast<double>(T);
    if (ffn_down_norm) {
      std::vector<double> col_sq(static_cast<size_t>(c.hidden_dim), 0.0);
      for (int64_t r = 0; r < dim; ++r)
        for (int64_t j = 0; j < c.hidden_dim; ++j) {
          const double v = b.w_down[r * c.hidden_dim + j];
          col_sq[j] += v * v;
        }
      for (int64_t j = 0; j < c.hidden_dim; ++j) acc.ffn[j] *= std::sqrt(col_sq[j]);
    }
    std::vector<double> groups(static_cast<size_t>(c.n_kv_heads), 0.0);
    for (int64_t h = 0; h < c.n_heads; ++h) groups[h / group] += acc.heads[h];
    s.heads.push_back(std::move(acc.heads));
    s.groups.push_back(std::move(groups));
    s.ffn.push_back(std::move(acc.ffn));
    if (c.is_moe()) s.experts.push_back(std::move(acc.experts));
    s.blocks.push_back(1.0 - acc.cos_sum / static_cast<double>(T));
  }
  return s;
}

StructuredPlan plan_structured_prune(const ModelConfig& c, const StructuredScores& s,
                                     const StructuredPruneOptions& o) {
  validate_structured_prune_options(c, o);
  LMPACK_CHECK(static_cast<int64_t>(s.blocks.size()) == c.n_layers && static_cast<int64_t>(s.groups.size()) == c.n_layers &&
                   static_cast<int64_t>(s.ffn.size()) == c.n_layers,
               "scores do not match the config");
  const int64_t group = c.n_heads / c.n_kv_heads;
  const int64_t width = o.ffn_width == 0 ? c.hidden_dim : o.ffn_width;
  StructuredPlan p;
  p.kept_blocks = kept_after_removing(ascending(s.blocks), o.drop_blocks);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    LMPACK_CHECK(static_cast<int64_t>(s.groups[l].size()) == c.n_kv_heads &&
                     static_cast<int64_t>(s.ffn[l].size()) == c.hidden_dim,
                 "scores do not match the config");
    p.kept_kv_heads.push_back(kept_after_removing(ascending(s.groups[l]), o.heads / group));
    p.kept_channels.push_back(kept_after_removing(ascending(s.ffn[l]), c.hidden_dim - width));
    if (c.is_moe()) {
      LMPACK_CHECK(static_cast<int64_t>(s.experts.size()) == c.n_layers &&
                       static_cast<int64_t>(s.experts[l].size()) == c.n_experts,
                   "scores do not match the config");
      p.kept_experts.push_back(kept_after_removing(ascending(s.experts[l]), o.drop_experts));
    }
  }
  return p;
}

Checkpoint apply_structured_prune(const Checkpoint& ckpt, const StructuredPlan& p) {
  const ModelConfig& c = ckpt.config;
  const std::string& where = ckpt.path;
  const int64_t group = c.n_heads / c.n_kv_heads, hd = c.head_dim, dim = c.dim;
  if (p.kept_blocks.empty()) throw Error(where, "structured plan keeps no block");
  check_plan_indices(where, p.kept_blocks, c.n_layers, "block");
  if (static_cast<int64_t>(p.kept_kv_heads.size()) != c.n_layers ||
      static_cast<int64_t>(p.kept_channels.size()) != c.n_layers)
    throw Error(where, cat("structured plan covers ", p.kept_kv_heads.size(), " / ", p.kept_channels.size(),
                           " layers, the model has ", c.n_layers));
  const size_t n_kv = p.kept_kv_heads[p.kept_blocks[0]].size(), width = p.kept_channels[p.kept_blocks[0]].size();
  if (n_kv == 0 || width == 0) throw Error(where, "structured plan keeps no head or no FFN channel");
  for (int64_t l : p.kept_blocks) {
    if (p.kept_kv_heads[l].size() != n_kv || p.kept_channels[l].size() != width)
      throw Error(where, cat("structured plan: block ", l, " keeps ", p.kept_kv_heads[l].size(), " KV heads and ",
                             p.kept_channels[l].size(), " channels, block ", p.kept_blocks[0], " keeps ", n_kv,
                             " and ", width, " (the config is global)"));
    check_plan_indices(where, p.kept_kv_heads[l], c.n_kv_heads, "KV head");
    check_plan_indices(where, p.kept_channels[l], c.hidden_dim, "FFN channel");
  }
  size_t n_experts = 0;
  if (c.is_moe()) {
    if (static_cast<int64_t>(p.kept_experts.size()) != c.n_layers)
      throw Error(where, cat("structured plan covers ", p.kept_experts.size(), " layers' experts, the model has ",
                             c.n_layers));
    n_experts = p.kept_experts[p.kept_blocks[0]].size();
    if (n_experts == 0) throw Error(where, "structured plan keeps no expert");
    for (int64_t l : p.kept_blocks) {
      if (p.kept_experts[l].size() != n_experts)
        throw Error(where, cat("structured plan: block ", l, " keeps ", p.kept_experts[l].size(), " experts, block ",
                               p.kept_blocks[0], " keeps ", n_experts, " (the config is global)"));
      check_plan_indices(where, p.kept_experts[l], c.n_experts, "expert");
    }
  }

  Checkpoint out;
  out.path = ckpt.path;
  out.format = ckpt.format;
  out.vocab = ckpt.vocab;
  out.config = c;
  out.config.n_layers = static_cast<int64_t>(p.kept_blocks.size());
  out.config.n_kv_heads = static_cast<int64_t>(n_kv);
  out.config.n_heads = static_cast<int64_t>(n_kv) * group;
  out.config.hidden_dim = static_cast<int64_t>(width);
  if (c.is_moe()) {
    out.config.n_experts = static_cast<int64_t>(n_experts);
    out.config.n_experts_used = std::min(c.n_experts_used, out.config.n_experts);
  }
  const int64_t new_q = out.config.q_dim();

  out.keep_alive = ckpt.keep_alive;  // the views' mappings and buffers
  auto add = [&](const std::string& name, std::vector<int64_t> shape, std::vector<float> values) {
    out.set_f32(name, std::move(shape), std::move(values));
  };

  // A tensor that loses nothing stays a view of the input (renamed).
  auto view = [&](const std::string& name, const TensorInfo& t) {
    TensorInfo v = t;
    v.name = name;
    out.tensors[name] = std::move(v);
  };
  auto is_identity = [](const std::vector<int64_t>& kept, int64_t n) {
    if (static_cast<int64_t>(kept.size()) != n) return false;
    for (int64_t i = 0; i < n; ++i)
      if (kept[i] != i) return false;
    return true;
  };

  std::vector<int64_t> new_index(static_cast<size_t>(c.n_layers), -1);
  for (size_t i = 0; i < p.kept_blocks.size(); ++i) new_index[p.kept_blocks[i]] = static_cast<int64_t>(i);
  for (const auto& [name, t] : ckpt.tensors) {
    int64_t layer = 0;
    std::string rest;
    if (!split_block(name, &layer, &rest)) {
      view(name, t);
      continue;
    }
    if (layer < 0 || layer >= c.n_layers) throw Error(where, cat("tensor ", name, " belongs to no block of the model"));
    if (new_index[layer] < 0) continue;
    const std::string n = cat("blk.", new_index[layer], ".", rest);
    int64_t expert_layer = 0, expert = 0;
    std::string kind;
    if (split_expert_name(name, &expert_layer, &kind, &expert)) {  // kept experts renumbered, as they are
      const std::vector<int64_t>& ke = p.kept_experts[layer];
      const auto at = std::find(ke.begin(), ke.end(), expert);
      if (at != ke.end()) view(expert_tensor_name(new_index[layer], kind.c_str(), at - ke.begin()), t);
      continue;
    }
    if (is_expert_router(name)) {  // the router keeps its kept experts' rows
      if (is_identity(p.kept_experts[layer], c.n_experts)) view(n, t);
      else add(n, {out.config.n_experts, dim}, gather_rows(decode_all(t), dim, p.kept_experts[layer], 1));
      continue;
    }
    const std::vector<int64_t>& kv = p.kept_kv_heads[layer];
    std::vector<int64_t> q_heads;  // kept query heads, grouped by kept KV head
    for (int64_t g : kv)
      for (int64_t j = 0; j < group; ++j) q_heads.push_back(g * group + j);
    const std::vector<int64_t>& ch = p.kept_channels[layer];
    const int64_t nw = static_cast<int64_t>(width), nkv = static_cast<int64_t>(n_kv) * hd;
    const bool attention = rest.rfind("attn_", 0) == 0 && rest != "attn_norm.weight";
    const bool ffn = rest.rfind("ffn_", 0) == 0 && rest != "ffn_norm.weight";
    // The per-head q/k norms (Qwen3) are one head's weight shared by every
    // head, so cutting heads leaves them as they are.
    if (rest == "attn_norm.weight" || rest == "ffn_norm.weight" || rest == "post_attention_norm.weight" ||
        rest == "post_ffw_norm.weight" || is_query_or_key_norm(name) ||
        (attention && is_identity(kv, c.n_kv_heads)) || (ffn && is_identity(ch, c.hidden_dim))) {
      view(n, t);
      continue;
    }
    const std::vector<float> v = decode_all(t);
    if (rest == "attn_q.weight") add(n, {new_q, dim}, gather_rows(v, dim, q_heads, hd));
    else if (rest == "attn_q.bias") add(n, {new_q}, gather_rows(v, 1, q_heads, hd));
    else if (rest == "attn_k.weight" || rest == "attn_v.weight") add(n, {nkv, dim}, gather_rows(v, dim, kv, hd));
    else if (rest == "attn_k.bias" || rest == "attn_v.bias") add(n, {nkv}, gather_rows(v, 1, kv, hd));
    else if (rest == "attn_output.weight") add(n, {dim, new_q}, gather_cols(v, dim, c.q_dim(), q_heads, hd));
    else if (rest == "ffn_gate.weight" || rest == "ffn_up.weight") add(n, {nw, dim}, gather_rows(v, dim, ch, 1));
    else if (rest == "ffn_down.weight") add(n, {dim, nw}, gather_cols(v, dim, c.hidden_dim, ch, 1));
    else throw Error(where, cat("tensor ", name, ": structured pruning does not know how to cut it"));
  }
  validate_checkpoint(out);
  return out;
}

StructuredPruneResult structured_prune(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                       const StructuredPruneOptions& options) {
  const ModelConfig& c = ckpt.config;
  validate_structured_prune_options(c, options);
  StructuredPruneResult r;
  StructuredPruneReport& rep = r.report;
  rep.scores = structured_scores(ckpt, windows, options.ffn_down_norm);
  rep.plan = plan_structured_prune(c, rep.scores, options);
  r.checkpoint = apply_structured_prune(ckpt, rep.plan);
  const int64_t group = c.n_heads / c.n_kv_heads;
  rep.dropped_blocks = complement(rep.plan.kept_blocks, c.n_layers);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    std::vector<int64_t> heads;
    for (int64_t g : complement(rep.plan.kept_kv_heads[l], c.n_kv_heads))
      for (int64_t j = 0; j < group; ++j) heads.push_back(g * group + j);
    rep.removed_heads.push_back(std::move(heads));
    rep.removed_channels.push_back(complement(rep.plan.kept_channels[l], c.hidden_dim));
    rep.removed_experts.push_back(c.is_moe() ? complement(rep.plan.kept_experts[l], c.n_experts)
                                             : std::vector<int64_t>{});
  }
  rep.parameters_before = ckpt.parameter_count();
  rep.parameters_after = r.checkpoint.parameter_count();
  rep.config_before = c;
  rep.config_after = r.checkpoint.config;
  return r;
}

std::string format_structured_prune_report(const StructuredPruneReport& r) {
  std::ostringstream o;
  const ModelConfig &a = r.config_before, &b = r.config_after;
  o << "structured pruning on " << r.scores.tokens << " calibration tokens\n";
  for (size_t l = 0; l < r.scores.blocks.size(); ++l) {
    const bool dropped = std::find(r.dropped_blocks.begin(), r.dropped_blocks.end(), static_cast<int64_t>(l)) !=
                         r.dropped_blocks.end();
    o << "  blk." << l << ": block influence " << r.scores.blocks[l];
    if (dropped) {
      o << ", dropped\n";
      continue;
    }
    o << ", heads removed [";
    for (size_t i = 0; i < r.removed_heads[l].size(); ++i) o << (i ? " " : "") << r.removed_heads[l][i];
    o << "], " << r.removed_channels[l].size() << " FFN channels removed";
    if (!r.removed_experts[l].empty()) {
      o << ", experts removed [";
      for (size_t i = 0; i < r.removed_experts[l].size(); ++i) {
        const int64_t e = r.removed_experts[l][i];
        o << (i ? " " : "") << e << " (routed " << r.scores.experts[l][e] << ")";
      }
      o << "]";
    }
    o << "\n";
  }
  o << "  blocks " << a.n_layers << " -> " << b.n_layers << ", heads " << a.n_heads << "/" << a.n_kv_heads << " -> "
    << b.n_heads << "/" << b.n_kv_heads << ", FFN " << a.hidden_dim << " -> " << b.hidden_dim;
  if (a.is_moe()) o << ", experts " << a.n_experts << " -> " << b.n_experts << " (" << b.n_experts_used << " per token)";
  o << "\n";
  o << "  parameters " << r.parameters_before << " -> " << r.parameters_after << "\n";
  return o.str();
}

}  // namespace lmpack
