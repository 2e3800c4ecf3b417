// measure_tensor_sensitivity; see tensor_sensitivity.h.
#include "pipeline/tensor_sensitivity.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "core/error.h"
#include "core/hash.h"
#include "core/interrupt.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "core/stopwatch.h"
#include "eval/kl.h"
#include "eval/perplexity.h"
#include "formats/decode.h"
#include "formats/format.h"
#include "formats/format_sizes.h"
#include "model/save_gguf.h"
#include "pipeline/gguf_mix.h"
#include "pipeline/gguf_quantize.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "pipeline/act_stats_observer.h"
#include "stats/act_stats.h"

namespace lmpack {
namespace {

// Base log-probabilities held for the KL: at most this many floats (1 GiB).
constexpr int64_t kMaxBaseFloats = int64_t{1} << 28;

// The windows measured on: whole windows up to max_tokens, at least one, and
// no more than the base log-probabilities' memory allows.
std::vector<std::vector<int32_t>> measured_windows(const std::vector<std::vector<int32_t>>& windows,
                                                   int64_t max_tokens, int64_t vocab) {
  if (windows.empty()) throw Error("calibration", "no token windows to measure sensitivity on");
  const int64_t cap = std::min(max_tokens, kMaxBaseFloats / std::max<int64_t>(vocab, 1));
  std::vector<std::vector<int32_t>> used;
  int64_t tokens = 0;
  for (const auto& w : windows) {
    if (!used.empty() && tokens + static_cast<int64_t>(w.size()) > cap) break;
    used.push_back(w);
    tokens += static_cast<int64_t>(w.size());
  }
  return used;
}

// Runs every window through `ckpt` and calls sink(window, logits [n, vocab]).
template <typename Sink>
void run_windows(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows, Sink&& sink,
                 LinearInputObserver* observer = nullptr) {
  int64_t longest = 0;
  for (const auto& w : windows) longest = std::max<int64_t>(longest, static_cast<int64_t>(w.size()));
  std::unique_ptr<ForwardPass> forward = make_fast_forward(build_weights(ckpt), longest);
  forward->set_observer(observer);
  std::vector<float> logits(static_cast<size_t>(longest * ckpt.config.vocab_size));
  for (size_t i = 0; i < windows.size(); ++i) {
    throw_if_interrupted();
    forward->reset();
    forward->forward(windows[i].data(), static_cast<int64_t>(windows[i].size()), logits.data());
    sink(i, logits.data());
  }
}

// One matrix of the output: its rows decoded, in the canonical order of its
// parts (the order of rows does not change a row encoder's error).
struct DecodedMatrix {
  std::vector<float> values;  // [rows, cols]
  int64_t rows = 0, cols = 0;
  std::vector<const TensorInfo*> parts;
};

DecodedMatrix decode_matrix(const GgufTensorSource& src) {
  DecodedMatrix m;
  m.parts = src.parts();
  m.cols = src.shape.back();
  m.rows = src.rows();
  m.values.resize(static_cast<size_t>(m.rows * m.cols));
  int64_t row = 0;
  for (const TensorInfo* part : m.parts) {
    if (!decodable_to_f32(part->dtype))
      throw Error(part->name, cat("type ", dtype_name(part->dtype), " cannot be decoded"));
    decode_to_f32(m.values.data() + row * m.cols, part->data, part->dtype, part->n_elements());
    row += part->rows();
  }
  LMPACK_CHECK(row == m.rows, cat(src.name, ": parts of the wrong size"));
  for (int64_t i = 0; i < m.rows * m.cols; ++i)
    if (!std::isfinite(m.values[static_cast<size_t>(i)]))
      throw Error(src.name, cat("non-finite value in row ", i / m.cols, " of the input"));
  return m;
}

// Per-row importance for the encoder: a row of `cols` values, or one per
// stacked matrix (experts), or none.
struct RowImportance {
  const std::vector<float>* values = nullptr;
  int64_t matrices = 1;
  const float* row(int64_t r, int64_t rows, int64_t cols) const {
    if (values == nullptr) return nullptr;
    if (matrices <= 1) return values->data();
    return values->data() + r / (rows / matrices) * cols;
  }
};

RowImportance encoder_importance(const ImportanceMatrix* importance, const std::string& name, int64_t cols,
                                 int64_t matrices) {
  RowImportance out;
  if (importance == nullptr) return out;
  auto it = importance->values.find(name);
  if (it == importance->values.end()) return out;
  const auto n = static_cast<int64_t>(it->second.size());
  if (n == cols) {
    out.values = &it->second;
  } else if (matrices > 1 && n == cols * matrices) {
    out.values = &it->second;
    out.matrices = matrices;
  }
  return out;
}

// The activations' mean squares per column for the error weights, or all
// ones when the forward saw none of this tensor's inputs (an untied
// token_embd is looked up, not multiplied).
std::vector<double> column_weights(const std::map<std::string, std::vector<float>>& stats,
                                   const DecodedMatrix& m, const std::string& name) {
  std::vector<double> d(static_cast<size_t>(m.cols), 1.0);
  const std::vector<float>* found = nullptr;
  if (auto it = stats.find(name); it != stats.end()) found = &it->second;
  else if (!m.parts.empty())
    if (auto jt = stats.find(m.parts.front()->name); jt != stats.end()) found = &jt->second;
  if (found != nullptr && static_cast<int64_t>(found->size()) == m.cols)
    for (int64_t j = 0; j < m.cols; ++j) d[static_cast<size_t>(j)] = (*found)[static_cast<size_t>(j)];
  return d;
}

// Encodes every row in `type`; returns the weighted relative squared error
// and leaves the bytes in `encoded`.
double encode_and_measure(const DecodedMatrix& m, DType type, const RowImportance& importance,
                          const std::vector<double>& d, std::vector<uint8_t>& encoded) {
  const FormatOps& ops = format_ops(type);
  const size_t row_bytes = dtype_bytes(type, m.cols);
  encoded.resize(row_bytes * static_cast<size_t>(m.rows));
  std::vector<double> err(static_cast<size_t>(m.rows)), ref(static_cast<size_t>(m.rows));
  parallel_for(m.rows, [&](int64_t r) {
    const float* w = m.values.data() + r * m.cols;
    uint8_t* out = encoded.data() + static_cast<size_t>(r) * row_bytes;
    ops.quantize_row(out, w, m.cols, importance.row(r, m.rows, m.cols));
    std::vector<float> back(static_cast<size_t>(m.cols));
    decode_to_f32(back.data(), out, type, m.cols);
    double e = 0.0, s = 0.0;
    for (int64_t j = 0; j < m.cols; ++j) {
      const double dw = static_cast<double>(w[j]) - back[static_cast<size_t>(j)];
      e += d[static_cast<size_t>(j)] * dw * dw;
      s += d[static_cast<size_t>(j)] * static_cast<double>(w[j]) * w[j];
    }
    err[static_cast<size_t>(r)] = e;
    ref[static_cast<size_t>(r)] = s;
  });
  double e = 0.0, s = 0.0;
  for (int64_t r = 0; r < m.rows; ++r) {
    e += err[static_cast<size_t>(r)];
    s += ref[static_cast<size_t>(r)];
  }
  return s > 0.0 ? e / s : 0.0;
}

uint64_t hash_u64(uint64_t h, uint64_t v) { return fnv1a64(&v, sizeof v, h); }

}  // namespace

std::vector<DType> default_allocation_types() {
  return {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_0};
}

SensitivityOptions resolved_sensitivity_options(const SensitivityOptions& options) {
  SensitivityOptions o = options;
  if (o.types.empty()) o.types = default_allocation_types();
  std::vector<DType> unique;
  for (DType t : o.types)
    if (std::find(unique.begin(), unique.end(), t) == unique.end()) unique.push_back(t);
  for (DType t : unique) {
    const FormatOps* ops = find_format_ops(t);
    if (ops == nullptr || ops->quantize_row == nullptr || ops->activation_only)
      throw Error("types", cat(dtype_name(t), " cannot be written to a GGUF file by this build"));
  }
  std::sort(unique.begin(), unique.end(), [](DType a, DType b) {
    return dtype_block_bytes(a) * dtype_block_elements(b) < dtype_block_bytes(b) * dtype_block_elements(a);
  });
  o.types = unique;
  if (!o.probe) o.probe = o.types.front();
  if (std::find(o.types.begin(), o.types.end(), *o.probe) == o.types.end())
    throw Error("probe", cat(dtype_name(*o.probe), " is not one of the candidate types"));
  if (o.max_tokens < 1) throw Error("max_tokens", cat("must be >= 1, got ", o.max_tokens));
  return o;
}

uint64_t sensitivity_key(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                         const SensitivityOptions& given) {
  const SensitivityOptions o = resolved_sensitivity_options(given);
  uint64_t h = kFnv1aOffset;
  for (const auto& [name, t] : ckpt.tensors) {
    h = fnv1a64(name.data(), name.size(), h);
    h = hash_u64(h, static_cast<uint64_t>(t.dtype));
    for (int64_t d : t.shape) h = hash_u64(h, static_cast<uint64_t>(d));
    h = fnv1a64(t.data, t.nbytes, h);
  }
  for (const auto& w : measured_windows(windows, o.max_tokens, ckpt.config.vocab_size)) h = hash_u64(h, fnv1a64_ids(w));
  for (DType t : o.types) h = hash_u64(h, static_cast<uint64_t>(t));
  h = hash_u64(h, static_cast<uint64_t>(*o.probe));
  h = hash_u64(h, static_cast<uint64_t>(o.max_tokens));
  h = hash_u64(h, o.importance != nullptr);
  if (o.importance)
    for (const auto& [name, v] : o.importance->values) {
      h = fnv1a64(name.data(), name.size(), h);
      h = fnv1a64(v.data(), v.size() * sizeof(float), h);
    }
  return h;
}

SensitivityTable measure_tensor_sensitivity(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& all_windows,
                                            const SensitivityOptions& given) {
  Stopwatch clock;
  const SensitivityOptions o = resolved_sensitivity_options(given);
  SensitivityTable table;
  table.key = sensitivity_key(ckpt, all_windows, o);
  table.probe = *o.probe;
  table.types = o.types;
  const int64_t vocab = ckpt.config.vocab_size;
  const std::vector<std::vector<int32_t>> windows = measured_windows(all_windows, o.max_tokens, vocab);
  table.windows = static_cast<int64_t>(windows.size());
  for (const auto& w : windows) table.tokens += static_cast<int64_t>(w.size());

  // The matrices the output quantizes, as the writer plans them.
  QuantizeOptions plan_options;
  plan_options.type_name = "q8_0";
  plan_options.pure = true;
  const GgufTypePlan plan = plan_gguf(ckpt, plan_options);
  const std::vector<GgufTensorSource> sources = gguf_tensor_plan(ckpt);
  LMPACK_CHECK(sources.size() == plan.choices.size(), "a type plan of another model");

  // The base run: log-probabilities of every position, and the activations'
  // mean squares for the error weights.
  std::vector<size_t> offsets;  // window -> first row in base
  for (size_t i = 0, at = 0; i < windows.size(); at += windows[i].size(), ++i) offsets.push_back(at);
  std::vector<float> base(static_cast<size_t>(table.tokens * vocab));
  ActStats stats;
  ActStatsObserver observer(stats);
  run_windows(
      ckpt, windows,
      [&](size_t i, const float* logits) {
        for (size_t p = 0; p < windows[i].size(); ++p) {
          float* row = base.data() + (offsets[i] + p) * static_cast<size_t>(vocab);
          log_softmax(row, logits + p * static_cast<size_t>(vocab), vocab);
        }
      },
      &observer);
  const std::map<std::string, std::vector<float>> means = stats.mean_squares();

  std::vector<size_t> measured;
  for (size_t i = 0; i < sources.size(); ++i)
    if (plan.choices[i].quantizable) measured.push_back(i);
  std::unique_ptr<Progress> progress;
  if (o.show_progress) progress = std::make_unique<Progress>("sensitivity", static_cast<int64_t>(measured.size()), "tensors");

  Checkpoint probe_ckpt = ckpt;  // one tensor at a time swapped for its probe encoding
  std::vector<float> log_probs(static_cast<size_t>(vocab));
  for (size_t done = 0; done < measured.size(); ++done) {
    throw_if_interrupted();
    const GgufTensorSource& src = sources[measured[done]];
    TensorSensitivity ts;
    ts.name = src.name;
    ts.shape = src.shape;
    ts.parameters = src.rows() * src.shape.back();
    const DecodedMatrix m = decode_matrix(src);
    const auto matrices = static_cast<int64_t>(src.shape.size() == 3 ? src.shape.front() : 1);
    const RowImportance importance = encoder_importance(o.importance.get(), src.name, m.cols, matrices);
    const std::vector<double> d = column_weights(means, m, src.name);

    ts.probe = fallback_type(*o.probe, m.cols);
    std::vector<uint8_t> probe_bytes, bytes;
    std::set<DType> seen;
    for (DType wanted : o.types) {
      const DType type = fallback_type(wanted, m.cols);
      if (!seen.insert(type).second) continue;
      TypeCost c;
      c.type = type;
      c.wanted = wanted;
      c.bytes = dtype_bytes(type, ts.parameters);
      c.error2 = encode_and_measure(m, type, importance, d, type == ts.probe ? probe_bytes : bytes);
      ts.costs.push_back(c);
    }
    std::stable_sort(ts.costs.begin(), ts.costs.end(), [](const TypeCost& a, const TypeCost& b) { return a.bytes < b.bytes; });
    double probe_error2 = 0.0;
    for (const TypeCost& c : ts.costs)
      if (c.type == ts.probe) probe_error2 = c.error2;

    // The model with this tensor alone in the probe type.
    const size_t row_bytes = dtype_bytes(ts.probe, m.cols);
    int64_t row = 0;
    for (const TensorInfo* part : m.parts) {
      TensorInfo& t = probe_ckpt.tensors.at(part->name);
      t.dtype = ts.probe;
      t.data = probe_bytes.data() + static_cast<size_t>(row) * row_bytes;
      t.nbytes = static_cast<size_t>(part->rows()) * row_bytes;
      row += part->rows();
    }
    double kl_sum = 0.0;
    run_windows(probe_ckpt, windows, [&](size_t i, const float* logits) {
      for (size_t p = 0; p < windows[i].size(); ++p) {
        log_softmax(log_probs.data(), logits + p * static_cast<size_t>(vocab), vocab);
        kl_sum += kl_divergence(base.data() + (offsets[i] + p) * static_cast<size_t>(vocab), log_probs.data(), vocab);
      }
    });
    for (const TensorInfo* part : m.parts) probe_ckpt.tensors.at(part->name) = *part;
    ts.probe_kl = std::max(0.0, kl_sum / static_cast<double>(table.tokens));
    ts.gain = probe_error2 > 0.0 ? ts.probe_kl / probe_error2 : 0.0;
    table.tensors.push_back(std::move(ts));
    if (progress) progress->update(static_cast<int64_t>(done) + 1);
  }
  if (progress) progress->finish();
  table.seconds = clock.seconds();
  return table;
}

}  // namespace lmpack
