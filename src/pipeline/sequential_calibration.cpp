// The sequential calibration pipeline; see sequential_calibration.h.
#include "pipeline/sequential_calibration.h"

#include <algorithm>
#include <cmath>
#include <variant>

#include "core/error.h"
#include "core/mapped_page_releaser.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "eval/resource_usage.h"
#include "formats/format.h"
#include "methods/awq.h"
#include "methods/gptq.h"
#include "methods/gptq_format.h"
#include "methods/magnitude_prune.h"
#include "methods/sparsegpt.h"
#include "methods/wanda.h"
#include "methods/round_trip.h"
#include "model/block_forward.h"
#include "model/save_gguf.h"
#include "model/weights.h"
#include "stats/hessian.h"

namespace lmpack {
namespace {

constexpr const char* kLinearSuffixes[] = {"attn_q.weight",   "attn_k.weight", "attn_v.weight", "attn_output.weight",
                                           "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"};

// Hessian and mean |x| of a stage's inputs x [tokens, cols].
struct StageStats {
  Hessian hessian;
  std::vector<float> mean_abs;  // [cols]
};

StageStats stage_stats(const float* x, int64_t tokens, int64_t cols, bool with_mean_abs) {
  StageStats s;
  s.hessian = make_hessian(cols);
  hessian_add(s.hessian, x, tokens);
  if (with_mean_abs) {
    s.mean_abs.assign(static_cast<size_t>(cols), 0.0f);
    parallel_for(cols, [&](int64_t c) {
      double sum = 0.0;
      for (int64_t t = 0; t < tokens; ++t) sum += std::fabs(x[t * cols + c]);
      s.mean_abs[c] = static_cast<float>(sum / static_cast<double>(tokens));
    });
  }
  return s;
}

void scale_columns(std::vector<float>& w, int64_t cols, const std::vector<float>& s) {
  const int64_t rows = static_cast<int64_t>(w.size()) / cols;
  parallel_for(rows, [&](int64_t r) {
    for (int64_t c = 0; c < cols; ++c) w[r * cols + c] *= s[c];
  });
}

void divide_rows(std::vector<float>& w, int64_t cols, const std::vector<float>& s) {
  const int64_t rows = static_cast<int64_t>(w.size()) / cols;
  parallel_for(rows, [&](int64_t r) {
    for (int64_t c = 0; c < cols; ++c) w[r * cols + c] /= s[r];
  });
}

void divide_elements(std::vector<float>& v, const std::vector<float>& s) {
  for (size_t i = 0; i < v.size(); ++i) v[i] /= s[i];
}

std::string int_grid_name(const IntGridSpec& g, int64_t group_size) {
  return cat("int", g.bits, group_size < 0 ? std::string(" per-channel") : cat(" g", group_size),
             g.symmetric ? " sym" : " asym");
}

}  // namespace

std::vector<std::string> block_linear_names(int64_t layer) {
  std::vector<std::string> names;
  for (const char* s : kLinearSuffixes) names.push_back(cat("blk.", layer, ".", s));
  return names;
}

struct SequentialCalibration::State {
  const Checkpoint& ckpt;
  ModelConfig config;
  CalibrationRecipe recipe;
  int64_t n_windows = 0, ctx = 0, tokens = 0;
  RopeTables rope;
  std::vector<float> x;  // [tokens, dim] residual stream entering block next_layer
  int64_t next_layer = 0;
  std::map<std::string, std::vector<float>> importance;  // per linear, scaled along with AWQ
  std::map<std::string, std::vector<float>> f32;
  std::map<std::string, QuantizedMatrix> encoded;
  std::map<std::string, QuantizedMatrix> ints;
  std::unique_ptr<Progress> progress;
  MappedPageReleaser releaser;  // hands each block's input pages back once decoded

  explicit State(const Checkpoint& c) : ckpt(c), config(c.config) {}
};

SequentialCalibration::SequentialCalibration(const Checkpoint& ckpt, std::vector<std::vector<int32_t>> windows,
                                             CalibrationRecipe recipe)
    : state_(std::make_unique<State>(ckpt)) {
  State& s = *state_;
  s.recipe = std::move(recipe);
  const ModelConfig& c = s.config;
  const bool prune_needs_data = s.recipe.prune && s.recipe.prune->method != PruneMethod::kMagnitude;
  const bool needs_data = (!s.recipe.prune && s.recipe.rounding == RoundingMethod::kGptq) || s.recipe.awq ||
                          s.recipe.awq_clip || prune_needs_data;
  if (needs_data && windows.empty())
    throw Error("--calib", cat(s.recipe.prune ? "Wanda and SparseGPT" : "GPTQ and AWQ",
                               " need calibration text (--calib FILE); lmpack has no built-in data set"));
  if (s.recipe.prune) validate_sparsity_pattern(s.recipe.prune->pattern);
  if (s.recipe.int_grid) {
    validate_int_grid(*s.recipe.int_grid);
  } else {
    if (s.recipe.awq_clip) throw Error("--awq-clip", "the clipping search is for integer grids (--format gptq/awq)");
    for (int64_t l = 0; l < c.n_layers; ++l)
      for (const std::string& n : block_linear_names(l))
        if (!s.recipe.gguf_types.count(n)) throw Error(n, "no target type for this linear layer");
  }
  for (int64_t l = 0; l < c.n_layers && s.recipe.importance; ++l)
    for (const std::string& n : block_linear_names(l)) {
      auto it = s.recipe.importance->values.find(n);
      if (it == s.recipe.importance->values.end()) continue;
      const int64_t cols = ckpt.tensor(n).cols();
      if (static_cast<int64_t>(it->second.size()) != cols)
        throw Error("--imatrix", cat(n, ": ", it->second.size(), " importance values, the tensor has ", cols,
                                     " columns"));
      s.importance[n] = it->second;
    }

  s.n_windows = static_cast<int64_t>(windows.size());
  if (s.n_windows > 0) {
    s.ctx = static_cast<int64_t>(windows[0].size());
    for (const auto& w : windows)
      if (static_cast<int64_t>(w.size()) != s.ctx) throw Error("--calib", "calibration windows differ in length");
    s.tokens = s.n_windows * s.ctx;
    const std::shared_ptr<const ModelWeights> weights = build_weights(ckpt);
    s.rope = make_rope_tables(weights->rope_inv_freq, s.ctx);
    s.x.resize(static_cast<size_t>(s.tokens * c.dim));
    for (int64_t w = 0; w < s.n_windows; ++w)
      for (int64_t i = 0; i < s.ctx; ++i) {
        const int32_t tok = windows[w][i];
        if (tok < 0 || tok >= c.vocab_size) throw Error("--calib", cat("token id ", tok, " outside the vocabulary"));
        weights->embed(s.x.data() + (w * s.ctx + i) * c.dim, tok);
      }
  }
  if (s.recipe.show_progress) s.progress = std::make_unique<Progress>("calibrate", c.n_layers, "blocks");
}

SequentialCalibration::~SequentialCalibration() = default;

int64_t SequentialCalibration::calibration_tokens() const { return state_->tokens; }

bool SequentialCalibration::handles(const std::string& name) const {
  int64_t layer = 0;
  std::string rest;
  return split_block(name, &layer, &rest) && layer < state_->config.n_layers;
}

void SequentialCalibration::run_through(int64_t layer) {
  State& s = *state_;
  while (s.next_layer <= layer && s.next_layer < s.config.n_layers) {
    throw_if_interrupted();
    run_block(s.next_layer);
    ++s.next_layer;
    if (s.progress) {
      s.progress->update(s.next_layer);
      if (s.next_layer == s.config.n_layers) s.progress->finish();
    }
  }
}

void SequentialCalibration::run_all() { run_through(state_->config.n_layers - 1); }

void SequentialCalibration::run_block(int64_t layer) {
  State& s = *state_;
  const ModelConfig& c = s.config;
  const CalibrationRecipe& r = s.recipe;
  const int64_t T = s.tokens, dim = c.dim, q_dim = c.q_dim(), kv_dim = c.kv_dim(), hidden = c.hidden_dim;
  const std::string p = cat("blk.", layer, ".");
  BlockF32 b = load_block_f32(s.ckpt, layer);
  for (const auto& [name, t] : s.ckpt.tensors)
    if (name.rfind(p, 0) == 0) s.releaser.release(t.data, t.nbytes);
  const bool have_data = T > 0;
  const bool v_to_o = q_dim == kv_dim;

  // The round trip of a linear layer on its target grid (for the AWQ search).
  auto round_trip_of = [&](const std::string& name) -> MatrixRoundTrip {
    if (r.int_grid) return int_group_round_trip(*r.int_grid, r.group_size, nullptr);
    return format_round_trip(r.gguf_types.at(name), nullptr);
  };
  auto importance_of = [&](const std::string& name) -> std::vector<float>* {
    auto it = s.importance.find(name);
    return it == s.importance.end() ? nullptr : &it->second;
  };
  std::map<std::string, double> alphas;

  // 1. AWQ: scales from the fp32 block on its input, folded before any rounding.
  if (r.awq && have_data) {
    std::vector<float> xn(static_cast<size_t>(T * dim));  // [T, dim]
    auto search = [&](const std::vector<std::pair<std::string, std::vector<float>*>>& group, int64_t cols,
                      const StageStats& st) {
      std::vector<AwqLinear> linears;
      for (const auto& [name, w] : group)
        linears.push_back({w->data(), static_cast<int64_t>(w->size()) / cols, round_trip_of(name)});
      AwqOptions o;
      o.n_grid = r.awq_grid;
      AwqSearchResult res = awq_search_scales(linears, cols, st.mean_abs.data(), st.hessian, o);
      for (const auto& [name, w] : group) {
        alphas[name] = res.alpha;
        if (std::vector<float>* imp = importance_of(name))
          for (int64_t k = 0; k < cols; ++k) (*imp)[k] /= res.scales[k] * res.scales[k];
      }
      return res.scales;
    };
    block_rmsnorm(xn.data(), s.x.data(), b.attn_norm.data(), T, dim, c.rms_eps);
    std::vector<float> s_qkv;
    {
      const StageStats st = stage_stats(xn.data(), T, dim, true);
      s_qkv = search({{p + "attn_q.weight", &b.wq}, {p + "attn_k.weight", &b.wk}, {p + "attn_v.weight", &b.wv}},
                     dim, st);
    }
    std::vector<float> att(static_cast<size_t>(T * q_dim));  // [T, q_dim]
    block_attention(att.data(), xn.data(), b, c, s.rope, s.n_windows);
    std::vector<float> s_o;
    if (v_to_o) {
      const StageStats st = stage_stats(att.data(), T, q_dim, true);
      s_o = search({{p + "attn_output.weight", &b.wo}}, q_dim, st);
    }
    std::vector<float> x2 = s.x;  // [T, dim]
    block_add_attn_output(x2.data(), att.data(), b, c, T);
    std::vector<float>().swap(att);
    block_rmsnorm(xn.data(), x2.data(), b.ffn_norm.data(), T, dim, c.rms_eps);
    std::vector<float>().swap(x2);
    std::vector<float> s_gu;
    {
      const StageStats st = stage_stats(xn.data(), T, dim, true);
      s_gu = search({{p + "ffn_gate.weight", &b.w_gate}, {p + "ffn_up.weight", &b.w_up}}, dim, st);
    }
    std::vector<float> act(static_cast<size_t>(T * hidden));  // [T, hidden]
    block_ffn_act(act.data(), xn.data(), b, c, T);
    std::vector<float> s_d;
    {
      const StageStats st = stage_stats(act.data(), T, hidden, true);
      s_d = search({{p + "ffn_down.weight", &b.w_down}}, hidden, st);
    }
    // Fold: the input of each group is divided by s, its consumers' columns multiplied.
    divide_elements(b.attn_norm, s_qkv);
    for (std::vector<float>* w : {&b.wq, &b.wk, &b.wv}) scale_columns(*w, dim, s_qkv);
    if (v_to_o) {
      divide_rows(b.wv, dim, s_o);
      if (!b.bv.empty()) divide_elements(b.bv, s_o);
      scale_columns(b.wo, q_dim, s_o);
    }
    divide_elements(b.ffn_norm, s_gu);
    for (std::vector<float>* w : {&b.w_gate, &b.w_up}) scale_columns(*w, dim, s_gu);
    divide_rows(b.w_up, dim, s_d);
    scale_columns(b.w_down, hidden, s_d);
  }

  // Pruning (recipe.prune): the mask, then the target grid. SparseGPT
  // quantizes jointly; magnitude/Wanda masks are rounded to nearest after.
  auto prune_linear = [&](const std::string& name, std::vector<float>& w, int64_t rows, int64_t cols,
                          const Hessian* h, const float* imp, LayerError& e) {
    const PruneSpec& ps = *r.prune;
    LMPACK_CHECK(!r.int_grid, "pruning writes GGUF or float targets");
    const DType type = r.gguf_types.at(name);
    const FormatOps* ops = find_format_ops(type);
    const bool float_type = type == DType::F32 || type == DType::F16 || type == DType::BF16;
    const int64_t block = dtype_traits(type).block_elements;
    QuantizedMatrix q;
    if (ps.method == PruneMethod::kSparseGpt) {
      LMPACK_CHECK(h != nullptr, "SparseGPT without a Hessian");
      SparseGptOptions o;
      o.damp = r.damp;
      o.block_size = r.block_size;
      o.importance = imp;
      const bool joint = !float_type && ops != nullptr && ops->row_grid != nullptr && cols % block == 0;
      if (joint) o.format = type;
      SparseGptResult res = sparsegpt_prune(w.data(), rows, cols, *h, ps.pattern, o);
      e.pruned_nonzero = res.pruned_nonzero;
      if (joint) {
        q = std::move(*res.quantized);
      } else {
        q = rtn_quantize_format(res.weights.data(), rows, cols, type, imp);
      }
      e.grid = cat(dtype_name(type), " sparsegpt", joint ? " (joint)" : "");
    } else {
      SparsityMask mask;
      if (ps.method == PruneMethod::kMagnitude) {
        mask = magnitude_prune_mask(w.data(), rows, cols, ps.pattern);
      } else {
        LMPACK_CHECK(h != nullptr, "Wanda without a Hessian");
        const std::vector<float> norms = wanda_column_norms(*h);
        mask = wanda_prune_mask(w.data(), rows, cols, norms.data(), ps.pattern);
      }
      const std::vector<float> pruned = apply_mask(w.data(), mask);
      q = rtn_quantize_format(pruned.data(), rows, cols, type, imp);
      for (size_t i = 0; i < mask.pruned.size(); ++i) e.pruned_nonzero += mask.pruned[i] && q.dequantized[i] != 0.0f;
      e.grid = cat(dtype_name(type), ps.method == PruneMethod::kMagnitude ? " magnitude" : " wanda");
    }
    w.swap(q.dequantized);
    std::vector<float>().swap(q.dequantized);
    s.encoded[name] = std::move(q);
  };

  // 2. True-sequential rounding.
  auto compress = [&](const std::string& name, std::vector<float>& w, int64_t cols, const Hessian* h) {
    Stopwatch clock;
    const int64_t rows = static_cast<int64_t>(w.size()) / cols;
    LayerError e;
    e.name = name;
    e.rows = rows;
    e.cols = cols;
    e.relative_error = NAN;
    if (auto it = alphas.find(name); it != alphas.end()) e.awq_alpha = it->second;
    const std::vector<float> w_ref = have_data ? w : std::vector<float>();
    const std::vector<float>* imp_v = importance_of(name);
    const float* imp = imp_v ? imp_v->data() : nullptr;
    const bool gptq = r.rounding == RoundingMethod::kGptq && h != nullptr;
    if (r.prune) {
      prune_linear(name, w, rows, cols, h, imp, e);
    } else if (r.int_grid) {
      const bool is_qk = name == p + "attn_q.weight" || name == p + "attn_k.weight";
      if (r.awq_clip && h != nullptr && !is_qk) awq_clip(w.data(), rows, cols, *h, *r.int_grid, r.group_size, {});
      QuantizedMatrix q;
      if (gptq) {
        GptqOptions o;
        o.grid = *r.int_grid;
        o.group_size = r.group_size;
        o.damp = r.damp;
        o.block_size = r.block_size;
        o.act_order = r.act_order;
        o.importance = imp;
        o.keep_zeros = true;  // a pruned input keeps its zeros
        q = gptq_quantize(w.data(), rows, cols, *h, o);
      } else {
        q = rtn_quantize(w.data(), rows, cols, *r.int_grid, r.group_size, imp);
      }
      w.swap(q.dequantized);
      std::vector<float>().swap(q.dequantized);
      s.ints[name] = std::move(q);
      e.grid = int_grid_name(*r.int_grid, r.group_size);
    } else {
      const DType type = r.gguf_types.at(name);
      const FormatOps* ops = find_format_ops(type);
      const int64_t block = dtype_traits(type).block_elements;
      const bool on_grid = gptq && ops != nullptr && ops->row_grid != nullptr && cols % block == 0;
      QuantizedMatrix q;
      if (on_grid) {
        GptqFormatOptions o;
        o.damp = r.damp;
        o.block_size = r.block_size;
        o.keep_zeros = true;  // a pruned input keeps its zeros where the format holds 0
        q = gptq_quantize_format(w.data(), rows, cols, *h, type, imp, o);
      } else {
        q = rtn_quantize_format(w.data(), rows, cols, type, imp);
      }
      w.swap(q.dequantized);
      std::vector<float>().swap(q.dequantized);
      s.encoded[name] = std::move(q);
      e.grid = cat(dtype_name(type), gptq && !on_grid ? " (rtn: no row grid)" : "");
    }
    for (float v : w) e.zeros += v == 0.0f;
    if (h != nullptr) {
      const double num = hessian_output_error(w_ref.data(), w.data(), rows, cols, *h);
      const double den = hessian_output_error(w_ref.data(), nullptr, rows, cols, *h);
      e.relative_error = den > 0.0 ? std::sqrt(num / den) : 0.0;
    }
    e.seconds = clock.seconds();
    errors_.push_back(std::move(e));
  };

  if (!have_data) {  // no inputs: every linear on its own, in the same order
    const struct {
      const char* suffix;
      std::vector<float>* w;
      int64_t cols;
    } linears[] = {{"attn_q.weight", &b.wq, dim},         {"attn_k.weight", &b.wk, dim},
                   {"attn_v.weight", &b.wv, dim},         {"attn_output.weight", &b.wo, q_dim},
                   {"ffn_gate.weight", &b.w_gate, dim},   {"ffn_up.weight", &b.w_up, dim},
                   {"ffn_down.weight", &b.w_down, hidden}};
    for (const auto& l : linears) compress(p + l.suffix, *l.w, l.cols, nullptr);
  } else {
    std::vector<float> xn(static_cast<size_t>(T * dim));  // [T, dim]
    block_rmsnorm(xn.data(), s.x.data(), b.attn_norm.data(), T, dim, c.rms_eps);
    {
      const StageStats st = stage_stats(xn.data(), T, dim, false);
      compress(p + "attn_q.weight", b.wq, dim, &st.hessian);
      compress(p + "attn_k.weight", b.wk, dim, &st.hessian);
      compress(p + "attn_v.weight", b.wv, dim, &st.hessian);
    }
    throw_if_interrupted();
    {
      std::vector<float> att(static_cast<size_t>(T * q_dim));  // [T, q_dim]
      block_attention(att.data(), xn.data(), b, c, s.rope, s.n_windows);
      const StageStats st = stage_stats(att.data(), T, q_dim, false);
      compress(p + "attn_output.weight", b.wo, q_dim, &st.hessian);
      block_add_attn_output(s.x.data(), att.data(), b, c, T);
    }
    throw_if_interrupted();
    block_rmsnorm(xn.data(), s.x.data(), b.ffn_norm.data(), T, dim, c.rms_eps);
    {
      const StageStats st = stage_stats(xn.data(), T, dim, false);
      compress(p + "ffn_gate.weight", b.w_gate, dim, &st.hessian);
      compress(p + "ffn_up.weight", b.w_up, dim, &st.hessian);
    }
    throw_if_interrupted();
    {
      std::vector<float> act(static_cast<size_t>(T * hidden));  // [T, hidden]
      block_ffn_act(act.data(), xn.data(), b, c, T);
      std::vector<float>().swap(xn);
      const StageStats st = stage_stats(act.data(), T, hidden, false);
      compress(p + "ffn_down.weight", b.w_down, hidden, &st.hessian);
      block_add_ffn_output(s.x.data(), act.data(), b, c, T);
    }
  }

  // The float tensors of the block (norms possibly rescaled by AWQ).
  s.f32[p + "attn_norm.weight"] = std::move(b.attn_norm);
  s.f32[p + "ffn_norm.weight"] = std::move(b.ffn_norm);
  if (!b.bq.empty()) s.f32[p + "attn_q.bias"] = std::move(b.bq);
  if (!b.bk.empty()) s.f32[p + "attn_k.bias"] = std::move(b.bk);
  if (!b.bv.empty()) s.f32[p + "attn_v.bias"] = std::move(b.bv);
}

std::vector<float> SequentialCalibration::take_f32(const std::string& name) {
  int64_t layer = 0;
  std::string rest;
  LMPACK_CHECK(split_block(name, &layer, &rest), cat("not a block tensor: ", name));
  run_through(layer);
  auto it = state_->f32.find(name);
  LMPACK_CHECK(it != state_->f32.end(), cat("no float tensor ", name, " (or taken twice)"));
  std::vector<float> v = std::move(it->second);
  state_->f32.erase(it);
  return v;
}

std::vector<uint8_t> SequentialCalibration::take_encoded(const std::string& name, DType type) {
  int64_t layer = 0;
  std::string rest;
  LMPACK_CHECK(split_block(name, &layer, &rest), cat("not a block tensor: ", name));
  run_through(layer);
  auto it = state_->encoded.find(name);
  LMPACK_CHECK(it != state_->encoded.end(), cat("no encoded tensor ", name, " (or taken twice)"));
  LMPACK_CHECK(it->second.type == type, cat(name, " was encoded as ", dtype_name(it->second.type), ", not ",
                                            dtype_name(type)));
  std::vector<uint8_t> v = std::move(it->second.data);
  state_->encoded.erase(it);
  return v;
}

QuantizedMatrix SequentialCalibration::take_int(const std::string& name) {
  int64_t layer = 0;
  std::string rest;
  LMPACK_CHECK(split_block(name, &layer, &rest), cat("not a block tensor: ", name));
  run_through(layer);
  auto it = state_->ints.find(name);
  LMPACK_CHECK(it != state_->ints.end(), cat("no integer-quantized tensor ", name, " (or taken twice)"));
  QuantizedMatrix m = std::move(it->second);
  state_->ints.erase(it);
  return m;
}

}  // namespace lmpack
