// Recipe files; see recipe.h.
#include "pipeline/recipe.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "core/printable.h"
#include "core/text_file.h"
#include "io/json_text.h"
#include "pipeline/gguf_mix.h"

namespace lmpack {
namespace {

constexpr uint64_t kMaxRecipeBytes = 1 << 20;

// A JSON object being read: every key must be known, each is read once.
class Reader {
 public:
  Reader(const nlohmann::json& j, std::string where, const std::string& path) : j_(j), where_(std::move(where)), path_(path) {
    if (!j_.is_object()) fail("", cat("must be an object, got ", json_excerpt(j_)));
  }
  // Throws for keys no getter asked for.
  void finish(const std::set<std::string>& known) const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!known.count(it.key())) {
        std::string list;
        for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
        fail(printable(it.key()), cat("unknown key (known here: ", list, ")"));
      }
  }
  const nlohmann::json* find(const std::string& key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    const std::string at = where_.empty() ? key : key.empty() ? where_ : where_ + "." + key;
    throw Error(path_, at.empty() ? problem : cat(at, ": ", problem));
  }
  std::string where(const std::string& key) const { return where_.empty() ? key : where_ + "." + key; }

  std::string string(const std::string& key, const std::string& fallback) const {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is_string()) fail(key, cat("must be a string, got ", json_excerpt(*v)));
    return v->get<std::string>();
  }
  int64_t integer(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) const {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is_number_integer()) fail(key, cat("must be an integer, got ", json_excerpt(*v)));
    const int64_t x = v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                          ? INT64_MAX
                          : v->get<int64_t>();
    if (x < lo || x > hi) fail(key, cat("must be in [", lo, ", ", hi, "], got ", x));
    return x;
  }
  double number(const std::string& key, double fallback) const {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is_number()) fail(key, cat("must be a number, got ", json_excerpt(*v)));
    const double x = v->get<double>();
    if (!std::isfinite(x)) fail(key, "must be finite");
    return x;
  }
  bool boolean(const std::string& key, bool fallback) const {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) fail(key, cat("must be true or false, got ", json_excerpt(*v)));
    return v->get<bool>();
  }
  std::vector<std::string> strings(const std::string& key) const {
    const nlohmann::json* v = find(key);
    std::vector<std::string> out;
    if (v == nullptr) return out;
    if (!v->is_array()) fail(key, cat("must be an array of strings, got ", json_excerpt(*v)));
    for (const nlohmann::json& e : *v) {
      if (!e.is_string()) fail(key, cat("must be an array of strings, got an element ", json_excerpt(e)));
      out.push_back(e.get<std::string>());
    }
    return out;
  }

 private:
  const nlohmann::json& j_;
  std::string where_;
  const std::string& path_;
};

// A library Error about a value, re-thrown as the file's error at the key.
template <typename F>
auto checked(const Reader& r, const std::string& key, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    r.fail(key, e.problem());
  }
}

void read_structured(const Reader& r, CompressStep& s) {
  s.kind = StepKind::kStructured;
  s.structure.heads = r.integer("heads", 0, 0, int64_t{1} << 20);
  s.structure.ffn_width = r.integer("ffn_width", 0, 0, int64_t{1} << 30);
  s.structure.drop_blocks = r.integer("drop_blocks", 0, 0, int64_t{1} << 20);
  s.structure.drop_experts = r.integer("drop_experts", 0, 0, int64_t{1} << 20);
  r.finish({"heads", "ffn_width", "drop_blocks", "drop_experts"});
  if (s.structure.heads == 0 && s.structure.ffn_width == 0 && s.structure.drop_blocks == 0 &&
      s.structure.drop_experts == 0)
    r.fail("", "removes nothing: give heads, ffn_width, drop_blocks or drop_experts");
}

void read_prune(const Reader& r, CompressStep& s) {
  s.kind = StepKind::kPrune;
  const std::string m = r.string("method", "magnitude");
  if (m == "magnitude") s.prune = PruneMethod::kMagnitude;
  else if (m == "wanda") s.prune = PruneMethod::kWanda;
  else if (m == "sparsegpt") s.prune = PruneMethod::kSparseGpt;
  else r.fail("method", cat("must be magnitude, wanda or sparsegpt, got '", printable(m), "'"));
  const bool has_sparsity = r.find("sparsity") != nullptr, has_pattern = r.find("pattern") != nullptr;
  if (has_sparsity == has_pattern) r.fail("", "give one of sparsity (a fraction) and pattern (\"N:M\")");
  if (has_pattern) {
    const std::string p = r.string("pattern", "");
    s.pattern = checked(r, "pattern", [&] { return parse_n_m_pattern(p); });
  } else {
    s.pattern = SparsityPattern{r.number("sparsity", 0.0), 0, 0};
    if (!(s.pattern.sparsity > 0.0 && s.pattern.sparsity < 1.0))
      r.fail("sparsity", cat("must be in (0, 1), got ", s.pattern.sparsity));
  }
  s.damp = r.number("damp", s.damp);
  s.block_size = r.integer("block_size", s.block_size, 1, int64_t{1} << 20);
  s.min_expert_tokens = r.integer("min_expert_tokens", s.min_expert_tokens, 0, int64_t{1} << 40);
  r.finish({"method", "sparsity", "pattern", "damp", "block_size", "min_expert_tokens"});
}

void read_quantize(const Reader& r, CompressStep& s) {
  s.kind = StepKind::kQuantize;
  const std::string m = r.string("method", "rtn");
  if (m == "rtn") s.rounding = RoundingMethod::kRtn;
  else if (m == "gptq") s.rounding = RoundingMethod::kGptq;
  else if (m == "awq") s.awq = true;
  else if (m == "awq+gptq") s.rounding = RoundingMethod::kGptq, s.awq = true;
  else r.fail("method", cat("must be rtn, gptq, awq or awq+gptq, got '", printable(m), "'"));
  s.damp = r.number("damp", s.damp);
  if (!(s.damp >= 0.0 && s.damp < 10.0)) r.fail("damp", cat("must be in [0, 10), got ", s.damp));
  s.block_size = r.integer("block_size", s.block_size, 1, int64_t{1} << 20);
  s.min_expert_tokens = r.integer("min_expert_tokens", s.min_expert_tokens, 0, int64_t{1} << 40);
  s.awq_clip = r.boolean("awq_clip", false);
  s.awq_grid = static_cast<int>(r.integer("awq_grid", 20, 1, 1000));
  s.act_order = r.boolean("act_order", false);
  const std::string format = r.string("format", "gguf");
  if (const std::optional<IntExportFormat> f = parse_int_export_format(format)) {
    IntExportSpec spec;
    spec.format = *f;
    spec.bits = static_cast<int>(r.integer("bits", 4, 2, 8));
    if (spec.bits != 2 && spec.bits != 3 && spec.bits != 4 && spec.bits != 8)
      r.fail("bits", cat("must be 2, 3, 4 or 8, got ", spec.bits));
    spec.group_size = r.integer("group_size", 128, -1, int64_t{1} << 30);
    if (spec.group_size == 0) r.fail("group_size", "must be > 0 or -1 (per channel)");
    spec.symmetric = r.boolean("sym", false);
    const std::string layout = r.string("ct_layout", "auto");
    const std::optional<CtLayout> l = parse_ct_layout(layout);
    if (!l) r.fail("ct_layout", cat("must be auto, pack-quantized or marlin-24, got '", printable(layout), "'"));
    spec.ct_layout = *l;
    spec.act_order = s.act_order;
    spec.damp = s.damp;
    s.int_export = spec;
    for (const char* k : {"type", "tensor_types", "output_type", "token_embedding_type", "pure", "imatrix"})
      if (r.find(k) != nullptr) r.fail(k, cat("applies to GGUF output, not format ", format));
  } else if (format != "gguf") {
    r.fail("format", cat("must be gguf, gptq, awq or compressed-tensors, got '", printable(format), "'"));
  } else {
    for (const char* k : {"bits", "group_size", "sym", "ct_layout"})
      if (r.find(k) != nullptr) r.fail(k, "applies to format gptq, awq or compressed-tensors");
  }
  QuantizeOptions& q = s.gguf;
  q.type_name = r.string("type", "");
  if (!q.type_name.empty()) checked(r, "type", [&] { return parse_quantize_type("type", q.type_name); });
  for (const std::string& t : r.strings("tensor_types")) {
    // (no structured binding: clang 14 cannot capture one in a lambda)
    const std::pair<std::string, std::string> split =
        checked(r, "tensor_types", [&] { return split_tensor_type_argument("tensor_types", t); });
    checked(r, "tensor_types", [&] { return make_tensor_type_override("tensor_types", split.first, split.second); });
    q.tensor_types.push_back(split);
  }
  q.output_type = r.string("output_type", "");
  if (!q.output_type.empty()) checked(r, "output_type", [&] { return parse_tensor_type("output_type", q.output_type); });
  q.token_embedding_type = r.string("token_embedding_type", "");
  if (!q.token_embedding_type.empty())
    checked(r, "token_embedding_type", [&] { return parse_tensor_type("token_embedding_type", q.token_embedding_type); });
  q.pure = r.boolean("pure", false);
  q.imatrix_path = r.string("imatrix", "");
  r.finish({"method", "damp", "block_size", "min_expert_tokens", "awq_clip", "awq_grid", "act_order", "format", "bits",
            "group_size", "sym", "ct_layout",
            "type", "tensor_types", "output_type", "token_embedding_type", "pure", "imatrix"});
}

void read_distill(const Reader& r, CompressStep& s) {
  s.kind = StepKind::kDistill;
  DistillStep& d = s.distill;
  TrainingOptions& t = d.training;
  d.teacher = r.string("teacher", "");
  t.data = r.strings("data");
  t.steps = r.integer("steps", t.steps, 1, int64_t{1} << 40);
  t.batch = r.integer("batch", t.batch, 1, int64_t{1} << 20);
  t.seq = r.integer("seq", 0, 0, int64_t{1} << 24);
  if (t.seq == 1) r.fail("seq", "must be at least 2 (or 0: the model's context, at most 256)");
  t.grad_accum = r.integer("grad_accum", t.grad_accum, 1, int64_t{1} << 20);
  t.lr = static_cast<float>(r.number("lr", t.lr));
  t.min_lr = static_cast<float>(r.number("min_lr", t.min_lr));
  if (r.find("warmup") != nullptr) t.warmup = r.integer("warmup", 0, 0, int64_t{1} << 40);
  t.clip = r.number("clip", t.clip);
  t.adamw.weight_decay = static_cast<float>(r.number("weight_decay", t.adamw.weight_decay));
  t.seed = static_cast<uint64_t>(r.integer("seed", 0, 0, INT64_MAX));
  d.temperature = static_cast<float>(r.number("temperature", d.temperature));
  d.alpha = static_cast<float>(r.number("alpha", d.alpha));
  d.hidden_weight = static_cast<float>(r.number("hidden_weight", d.hidden_weight));
  t.activation_memory = static_cast<size_t>(r.integer("activation_memory", 0, 0, int64_t{1} << 50));
  d.teacher_cache = r.string("teacher_cache", "");
  d.cache_top_k = r.integer("cache_top_k", d.cache_top_k, 1, int64_t{1} << 24);
  // The last step's target: a quantized student on a GGUF type's grids.
  s.gguf.type_name = r.string("type", "");
  if (!s.gguf.type_name.empty()) checked(r, "type", [&] { return parse_quantize_type("type", s.gguf.type_name); });
  s.gguf.imatrix_path = r.string("imatrix", "");
  if (!s.gguf.imatrix_path.empty() && s.gguf.type_name.empty())
    r.fail("imatrix", "weights the scale search of a quantized student: give type too");
  r.finish({"teacher", "data", "steps", "batch", "seq", "grad_accum", "lr", "min_lr", "warmup", "clip", "weight_decay",
            "seed", "temperature", "alpha", "hidden_weight", "teacher_cache", "cache_top_k", "activation_memory",
            "type", "imatrix"});
  try {
    TrainingOptions check = t;
    check.output = "recipe";
    validate_training_options(check);
  } catch (const Error& e) {
    r.fail(e.where(), e.problem());
  }
  if (!(d.temperature > 0.0f)) r.fail("temperature", cat("must be a positive number, got ", d.temperature));
  if (!(d.alpha >= 0.0f && d.alpha <= 1.0f)) r.fail("alpha", cat("must be between 0 and 1, got ", d.alpha));
}

}  // namespace

Recipe parse_recipe(const std::string& text, const std::string& path) {
  const nlohmann::json j = parse_json_text(text, path);
  const Reader top(j, "", path);
  top.finish({"steps", "calibration"});
  Recipe recipe;
  const nlohmann::json* steps = top.find("steps");
  if (steps == nullptr || !steps->is_array() || steps->empty())
    top.fail("steps", "a recipe needs \"steps\": a non-empty array of steps");
  for (size_t i = 0; i < steps->size(); ++i) {
    const std::string where = cat("steps[", i, "]");
    const nlohmann::json& step = (*steps)[i];
    if (!step.is_object() || step.size() != 1)
      throw Error(path, cat(where, ": a step is an object with one key: structured, prune, quantize or distill"));
    const std::string kind = step.begin().key();
    const Reader r(step.begin().value(), where + "." + kind, path);
    CompressStep s;
    if (kind == "structured") read_structured(r, s);
    else if (kind == "prune") read_prune(r, s);
    else if (kind == "quantize") read_quantize(r, s);
    else if (kind == "distill") read_distill(r, s);
    else throw Error(path, cat(where, ".", printable(kind), ": unknown step (structured, prune, quantize or distill)"));
    recipe.steps.push_back(std::move(s));
  }
  for (size_t i = 0; i + 1 < recipe.steps.size(); ++i) {
    const CompressStep& s = recipe.steps[i];
    if (s.int_export || !s.gguf.type_name.empty() || !s.gguf.tensor_types.empty())
      throw Error(path, cat("steps[", i, "]: only the last step has a target (type, tensor_types, format); "
                                     "the steps before it keep F32"));
  }
  if (const nlohmann::json* c = top.find("calibration")) {
    const Reader r(*c, "calibration", path);
    recipe.has_calibration = true;
    recipe.calibration.files = r.strings("files");
    recipe.calibration.samples = r.integer("samples", 128, 1, int64_t{1} << 24);
    recipe.calibration.ctx = r.integer("ctx", 0, 0, int64_t{1} << 24);
    if (recipe.calibration.ctx == 1) r.fail("ctx", "must be at least 2 (or 0: the default)");
    recipe.calibration.seed = static_cast<uint64_t>(r.integer("seed", 0, 0, INT64_MAX));
    recipe.calibration.consecutive = r.boolean("consecutive", false);
    r.finish({"files", "samples", "ctx", "seed", "consecutive"});
  }
  return recipe;
}

Recipe read_recipe(const std::string& path) {
  return parse_recipe(read_text_file(path, kMaxRecipeBytes, "recipe"), path);
}

}  // namespace lmpack
