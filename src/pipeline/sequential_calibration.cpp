// The sequential calibration engine; see sequential_calibration.h.
#include "pipeline/sequential_calibration.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/large_buffer.h"
#include "core/mapped_page_releaser.h"
#include "core/progress.h"
#include "core/stopwatch.h"
#include "model/tensor_names.h"
#include "pipeline/expert_importance.h"
#include "runtime/block_forward.h"
#include "runtime/weights.h"
#include "stats/hessian.h"

namespace lmpack {
namespace {


}  // namespace

struct SequentialCalibration::State {
  const Checkpoint& ckpt;
  ModelConfig config;
  CalibrationPlan plan;
  int64_t n_windows = 0, ctx = 0, tokens = 0;
  RopeTables rope;
  std::vector<float> x;  // [tokens, dim] residual stream entering block next_layer
  int64_t next_layer = 0;
  std::map<std::string, std::vector<float>> importance;  // per linear, scaled along with AWQ
  std::map<std::string, std::vector<float>> f32;
  std::map<std::string, QuantizedMatrix> matrices;
  std::unique_ptr<Progress> progress;
  MappedPageReleaser releaser;  // hands each block's input pages back once decoded

  explicit State(const Checkpoint& c) : ckpt(c), config(c.config) {}
};

SequentialCalibration::SequentialCalibration(const Checkpoint& ckpt, std::vector<std::vector<int32_t>> windows,
                                             const CalibrationRecipe& recipe)
    : SequentialCalibration(ckpt, std::move(windows), make_calibration_plan(ckpt, recipe)) {}

SequentialCalibration::SequentialCalibration(const Checkpoint& ckpt, std::vector<std::vector<int32_t>> windows,
                                             CalibrationPlan plan)
    : state_(std::make_unique<State>(ckpt)) {
  State& s = *state_;
  s.plan = std::move(plan);
  const ModelConfig& c = s.config;
  LMPACK_CHECK(s.plan.method != nullptr, "a calibration plan without a method");
  if (s.plan.method->needs_calibration() && windows.empty())
    throw Error("calibration", cat(s.plan.method->name(),
                                   " needs calibration text (token windows); lmpack has no built-in data set"));
  for (int64_t l = 0; l < c.n_layers; ++l)
    for (const std::string& n : block_linear_names(l, c)) {
      auto g = s.plan.grids.find(n);
      if (g == s.plan.grids.end() || g->second == nullptr) throw Error(n, "no target grid for this linear layer");
    }
  for (int64_t l = 0; l < c.n_layers && s.plan.importance; ++l)
    for (const std::string& n : block_linear_names(l, c)) {  // an expert's: its row of a stacked entry
      std::vector<float> v = linear_importance(*s.plan.importance, n, ckpt.tensor(n).cols(), c);
      if (!v.empty()) s.importance[n] = std::move(v);
    }

  s.n_windows = static_cast<int64_t>(windows.size());
  if (s.n_windows > 0) {
    s.ctx = static_cast<int64_t>(windows[0].size());
    for (const auto& w : windows)
      if (static_cast<int64_t>(w.size()) != s.ctx) throw Error("calibration", "token windows differ in length");
    s.tokens = s.n_windows * s.ctx;
    const std::shared_ptr<const ModelWeights> weights = build_weights(ckpt);
    s.rope = make_rope_tables(*weights, s.ctx);
    s.x = large_vector<float>(static_cast<size_t>(s.tokens * c.dim));
    for (int64_t w = 0; w < s.n_windows; ++w)
      for (int64_t i = 0; i < s.ctx; ++i) {
        const int32_t tok = windows[w][i];
        if (tok < 0 || tok >= c.vocab_size)
          throw Error("calibration", cat("token id ", tok, " outside the vocabulary of ", c.vocab_size));
        weights->embed(s.x.data() + (w * s.ctx + i) * c.dim, tok);
      }
  }
  if (s.plan.show_progress) s.progress = std::make_unique<Progress>("calibrate", c.n_layers, "blocks");
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
  Method& method = *s.plan.method;
  const std::string p = cat("blk.", layer, ".");
  BlockF32 b = load_block_f32(s.ckpt, layer);
  for (const auto& [name, t] : s.ckpt.tensors)
    if (name.rfind(p, 0) == 0) s.releaser.release(t.data, t.nbytes);
  const bool have_data = s.tokens > 0;
  auto importance_of = [&](const std::string& name) -> std::vector<float>* {
    auto it = s.importance.find(name);
    return it == s.importance.end() ? nullptr : &it->second;
  };

  // 1. The method's transform of the whole block (AWQ), on its input.
  if (have_data) {
    method.transform_block([&](const std::function<void(const LinearStage&)>& visit) {
      std::vector<float> x = large_copy(s.x);  // [T, dim]: the walk must not move the residual stream
      walk_block_stages(b, c, s.rope, s.n_windows, x.data(), /*add_ffn_output=*/false, [&](const BlockStage& bs) {
        LinearStage st;
        st.input = bs.input;
        st.tokens = bs.tokens;
        st.cols = bs.cols;
        for (const BlockLinear& l : bs.linears) {
          const std::string name = p + l.suffix;
          st.linears.push_back({name, l.w, static_cast<int64_t>(l.w->size()) / bs.cols, s.plan.grids.at(name).get(),
                                importance_of(name)});
        }
        st.producer_norm = bs.producer_norm;
        st.producer_rows = bs.producer_rows;
        st.producer_cols = bs.producer_cols;
        st.producer_bias = bs.producer_bias;
        visit(st);
      }, s.plan.min_expert_tokens);
    });
  }

  // 2. True-sequential compression: each linear replaced by its result.
  auto compress = [&](const std::string& name, std::vector<float>& w, int64_t cols, const Hessian* h,
                      const BlockStage* stage) {
    Stopwatch clock;
    const int64_t rows = static_cast<int64_t>(w.size()) / cols;
    LayerError e;
    e.name = name;
    e.rows = rows;
    e.cols = cols;
    if (stage != nullptr) {
      e.tokens = stage->tokens;
      e.routed_tokens = stage->routed_tokens;
    }
    e.relative_error = NAN;
    const std::vector<float> w_ref = have_data ? large_copy(w) : std::vector<float>();
    const std::vector<float>* imp = importance_of(name);
    LinearLayer layer{name, w.data(), rows, cols, h, imp ? imp->data() : nullptr, s.plan.grids.at(name).get(),
                      is_query_or_key(name)};
    CompressedLayer out = method.compress(layer);
    LMPACK_CHECK(out.matrix.rows == rows && out.matrix.cols == cols &&
                     static_cast<int64_t>(out.matrix.dequantized.size()) == rows * cols,
                 cat(method.name(), " returned a matrix of the wrong shape for ", name));
    e.grid = std::move(out.grid);
    e.pruned_nonzero = out.pruned_nonzero;
    e.awq_alpha = out.awq_alpha;
    w.swap(out.matrix.dequantized);
    std::vector<float>().swap(out.matrix.dequantized);
    s.matrices[name] = std::move(out.matrix);
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
    for (const BlockLinear& l : block_linears(b, c)) compress(p + l.suffix, *l.w, l.cols, nullptr, nullptr);
  } else {
    walk_block_stages(b, c, s.rope, s.n_windows, s.x.data(), /*add_ffn_output=*/true, [&](const BlockStage& st) {
      Hessian h = make_hessian(st.cols);
      hessian_add(h, st.input, st.tokens);
      for (const BlockLinear& l : st.linears) compress(p + l.suffix, *l.w, st.cols, &h, &st);
      throw_if_interrupted();
    }, s.plan.min_expert_tokens);
  }

  // The float tensors of the block (norms possibly rescaled by a transform).
  s.f32[p + "attn_norm.weight"] = std::move(b.attn_norm);
  s.f32[p + "ffn_norm.weight"] = std::move(b.ffn_norm);
  if (!b.bq.empty()) s.f32[p + "attn_q.bias"] = std::move(b.bq);
  if (!b.bk.empty()) s.f32[p + "attn_k.bias"] = std::move(b.bk);
  if (!b.bv.empty()) s.f32[p + "attn_v.bias"] = std::move(b.bv);
  if (!b.q_norm.empty()) s.f32[p + "attn_q_norm.weight"] = std::move(b.q_norm);
  if (!b.post_attn_norm.empty()) s.f32[p + "post_attention_norm.weight"] = std::move(b.post_attn_norm);
  if (!b.post_ffn_norm.empty()) s.f32[p + "post_ffw_norm.weight"] = std::move(b.post_ffn_norm);
  if (!b.k_norm.empty()) s.f32[p + "attn_k_norm.weight"] = std::move(b.k_norm);
  if (!b.router.empty()) s.f32[router_tensor_name(layer)] = std::move(b.router);  // kept in float, as llama.cpp does
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

QuantizedMatrix SequentialCalibration::take_matrix(const std::string& name) {
  int64_t layer = 0;
  std::string rest;
  LMPACK_CHECK(split_block(name, &layer, &rest), cat("not a block tensor: ", name));
  run_through(layer);
  auto it = state_->matrices.find(name);
  LMPACK_CHECK(it != state_->matrices.end(), cat("no compressed matrix ", name, " (or taken twice)"));
  QuantizedMatrix m = std::move(it->second);
  state_->matrices.erase(it);
  return m;
}

}  // namespace lmpack
