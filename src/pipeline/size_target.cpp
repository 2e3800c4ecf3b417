// allocate_to_target; see size_target.h.
#include "pipeline/size_target.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/format_sizes.h"
#include "pipeline/bit_allocation.h"
#include "model/save_gguf.h"
#include "pipeline/gguf_mix.h"
#include "pipeline/sensitivity_cache.h"

namespace lmpack {
namespace {

int64_t elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Whether the user's options fix this tensor's type (the allocation leaves it).
bool user_fixed(const QuantizeOptions& o, const std::string& name) {
  if (name == "output.weight" && !o.output_type.empty()) return true;
  if (name == "token_embd.weight" && !o.token_embedding_type.empty()) return true;
  for (const auto& [pattern, type] : o.tensor_types)
    if (std::regex_search(name, make_tensor_type_override("tensor_types", pattern, type).regex)) return true;
  return false;
}

std::string allocation_json(const SizeAllocation& a, const std::vector<std::string>& types) {
  nlohmann::json j;
  j["target"] = a.target;
  j["target_bytes"] = a.target_bytes;
  j["predicted_kl"] = a.predicted_kl;
  j["probe"] = std::string(dtype_name(a.sensitivity.probe));
  j["sensitivity_tokens"] = a.sensitivity.tokens;
  nlohmann::json t = nlohmann::json::object();
  size_t i = 0;
  for (const AllocatedTensor& x : a.tensors)
    if (!x.fixed) t[x.name] = types.empty() ? std::string(dtype_name(x.type)) : types[i++];
  j["types"] = t;
  return j.dump();
}

// The tensor bytes a bits-per-weight target allows `parameters`.
uint64_t bpw_target_bytes(double bits_per_weight, int64_t parameters) {
  return static_cast<uint64_t>(std::floor(bits_per_weight * static_cast<double>(parameters) / 8.0));
}

// The error for a target below `least_bytes` of tensors (every chosen
// tensor in its fewest-bytes candidate) over `parameters`.
TargetBelowSmallest below_smallest(const std::string& target, uint64_t least_bytes, int64_t parameters) {
  const double bpw = 8.0 * static_cast<double>(least_bytes) / static_cast<double>(std::max<int64_t>(parameters, 1));
  return TargetBelowSmallest("target", cat(target, " is below the smallest model the candidate types make: ",
                                           least_bytes, " bytes of tensors (", bpw, " bpw)"),
                             bpw);
}

}  // namespace

std::string describe_size_target(const SizeTarget& t) {
  if (t.bits_per_weight > 0.0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g bpw", t.bits_per_weight);
    return buf;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g MB (%llu bytes)", static_cast<double>(t.file_bytes) / 1e6,
                static_cast<unsigned long long>(t.file_bytes));
  return buf;
}

void validate_size_target(const SizeTarget& t) {
  const bool bpw = t.bits_per_weight != 0.0, bytes = t.file_bytes != 0;
  if (bpw == bytes) throw Error("target", "give exactly one of a bits-per-weight and a file-size target");
  if (bpw && !(t.bits_per_weight > 0.0 && t.bits_per_weight <= 32.0))
    throw Error("target", cat("bits per weight must be in (0, 32], got ", t.bits_per_weight));
  resolved_sensitivity_options(t.sensitivity);
}

SizeAllocation allocate_to_target(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                  const SizeTarget& target, QuantizeOptions& options) {
  validate_size_target(target);
  SizeAllocation a;
  a.target = describe_size_target(target);
  // The tensors of the file; which ones are chosen here.
  QuantizeOptions fixed_options = options;
  fixed_options.type_name = "q8_0";
  fixed_options.pure = true;
  fixed_options.tensor_plan.clear();
  const GgufTypePlan plan = plan_gguf(ckpt, fixed_options);
  std::map<std::string, int64_t> sizes, widths;  // every tensor of the file: its elements, its row length
  for (const GgufTensorSource& s : gguf_tensor_plan(ckpt)) {
    sizes[s.name] = elements(s.shape);
    widths[s.name] = s.shape.back();
  }

  // A target that no allocation meets is refused before the sensitivity is
  // measured (minutes on a large model): every chosen tensor in its fewest
  // bytes is known from the shapes; a file target's header is not counted
  // here (it is below).
  {
    const std::vector<DType> types = resolved_sensitivity_options(target.sensitivity).types;
    uint64_t least_bytes = 0;
    int64_t parameters = 0;
    for (const MixChoice& c : plan.choices) {
      const int64_t n = sizes.at(c.name);
      parameters += n;
      if (!c.quantizable || user_fixed(options, c.name)) {
        least_bytes += dtype_bytes(c.type, n);
        continue;
      }
      const int64_t cols = widths.at(c.name);
      uint64_t least = UINT64_MAX;
      for (DType t : types) least = std::min<uint64_t>(least, dtype_bytes(fallback_type(t, cols), n));
      least_bytes += least;
    }
    const uint64_t allowed =
        target.bits_per_weight > 0.0 ? bpw_target_bytes(target.bits_per_weight, parameters) : target.file_bytes;
    if (least_bytes > allowed) throw below_smallest(a.target, least_bytes, parameters);
  }

  SensitivityOptions so = target.sensitivity;
  so.importance = options.imatrix;
  so.show_progress = options.show_progress && so.show_progress;
  a.sensitivity = cached_tensor_sensitivity(ckpt, windows, so, target.cache);
  std::map<std::string, const TensorSensitivity*> measured;
  for (const TensorSensitivity& t : a.sensitivity.tensors) measured[t.name] = &t;
  std::vector<AllocationItem> items;
  std::vector<const TensorSensitivity*> item_tensors;
  for (const MixChoice& c : plan.choices) {
    const int64_t n = sizes.at(c.name);
    a.parameters += n;
    const auto it = measured.find(c.name);
    if (!c.quantizable || user_fixed(options, c.name) || it == measured.end()) {
      // A float tensor, or one the user's options fix: counted at its type.
      a.fixed_bytes += dtype_bytes(c.type, n);
      if (c.quantizable) a.tensors.push_back({c.name, c.type, dtype_bytes(c.type, n), 0.0, 0.0, true});
      continue;
    }
    const TensorSensitivity& t = *it->second;
    AllocationItem item;
    item.name = t.name;
    for (const TypeCost& cost : t.costs) item.options.push_back({cost.bytes, t.predicted_kl(cost)});
    items.push_back(std::move(item));
    item_tensors.push_back(&t);
    a.tensors.push_back({t.name, DType::F32, 0, 0.0, 0.0, false});
  }

  if (target.bits_per_weight > 0.0) {
    a.target_bytes = bpw_target_bytes(target.bits_per_weight, a.parameters);
  } else {
    // The metadata holds the allocation itself: measure it with the longest
    // type name in every place.
    std::string longest;
    for (const TensorSensitivity* t : item_tensors)
      for (const TypeCost& c : t->costs)
        if (std::string(dtype_name(c.type)).size() > longest.size()) longest = dtype_name(c.type);
    SizeAllocation draft = a;
    draft.target_bytes = target.file_bytes;
    draft.predicted_kl = -1.2345678901234567e-300;  // the longest a double prints
    QuantizeOptions measure = options;
    measure.allocation = allocation_json(draft, std::vector<std::string>(items.size(), longest));
    a.overhead_bytes = gguf_overhead_bytes(ckpt, measure, plan);
    if (target.file_bytes <= a.overhead_bytes)
      throw Error("target", cat(a.target, " leaves no room for tensors: the file's header and metadata take up to ",
                                a.overhead_bytes, " bytes"));
    a.target_bytes = target.file_bytes - a.overhead_bytes;
    // The check before the measurement left the header out; a bits-per-weight
    // target was checked there exactly.
    uint64_t smallest = a.fixed_bytes;
    for (const AllocationItem& item : items) {
      uint64_t least = item.options.front().bytes;
      for (const AllocationOption& o : item.options) least = std::min(least, o.bytes);
      smallest += least;
    }
    if (smallest > a.target_bytes) throw below_smallest(a.target, smallest, a.parameters);
  }
  const AllocationResult r = allocate_bits(items, a.target_bytes - a.fixed_bytes);

  std::map<DType, uint64_t> by_type;
  size_t k = 0;
  a.tensor_bytes = a.fixed_bytes;
  for (AllocatedTensor& x : a.tensors) {
    if (x.fixed) continue;
    const TensorSensitivity& t = *item_tensors[k];
    const TypeCost& c = t.costs[r.chosen[k]];
    x.type = c.type;
    x.bytes = c.bytes;
    x.error2 = c.error2;
    x.predicted_kl = t.predicted_kl(c);
    a.predicted_kl += x.predicted_kl;
    a.tensor_bytes += c.bytes;
    by_type[c.type] += c.bytes;
    options.tensor_plan[x.name] = c.type;
    ++k;
  }
  DType dominant = DType::Q8_0;
  uint64_t most = 0;
  for (const auto& [type, bytes] : by_type)
    if (bytes > most) {
      most = bytes;
      dominant = type;
    }
  options.type_name = std::string(dtype_name(dominant));
  options.pure = true;
  options.allocation = allocation_json(a, {});
  return a;
}

}  // namespace lmpack
