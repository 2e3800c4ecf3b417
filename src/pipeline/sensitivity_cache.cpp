// Sensitivity tables as JSON; see sensitivity_cache.h.
#include "pipeline/sensitivity_cache.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text_file.h"

namespace lmpack {
namespace {

std::string key_text(uint64_t key) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(key));
  return buf;
}

DType type_named(const nlohmann::json& v, const std::string& path) {
  const std::optional<DType> t = v.is_string() ? dtype_from_name(v.get<std::string>()) : std::nullopt;
  if (!t) throw Error(path, cat("unknown tensor type ", v.dump()));
  return *t;
}

}  // namespace

nlohmann::json sensitivity_table_json(const SensitivityTable& table) {
  nlohmann::json j;
  j["key"] = key_text(table.key);
  j["probe"] = std::string(dtype_name(table.probe));
  j["types"] = nlohmann::json::array();
  for (DType t : table.types) j["types"].push_back(std::string(dtype_name(t)));
  j["windows"] = table.windows;
  j["tokens"] = table.tokens;
  j["seconds"] = table.seconds;
  j["tensors"] = nlohmann::json::array();
  for (const TensorSensitivity& t : table.tensors) {
    nlohmann::json e = {{"name", t.name},         {"shape", t.shape}, {"parameters", t.parameters},
                        {"probe", std::string(dtype_name(t.probe))}, {"probe_kl", t.probe_kl}, {"gain", t.gain}};
    e["types"] = nlohmann::json::array();
    for (const TypeCost& c : t.costs)
      e["types"].push_back({{"type", std::string(dtype_name(c.type))},
                            {"wanted", std::string(dtype_name(c.wanted))},
                            {"bytes", c.bytes},
                            {"error2", c.error2},
                            {"predicted_kl", t.predicted_kl(c)}});
    j["tensors"].push_back(e);
  }
  return j;
}

SensitivityTable sensitivity_table_from_json(const nlohmann::json& j, const std::string& path) {
  try {
    SensitivityTable t;
    t.key = std::stoull(j.at("key").get<std::string>(), nullptr, 16);
    t.probe = type_named(j.at("probe"), path);
    for (const auto& v : j.at("types")) t.types.push_back(type_named(v, path));
    t.windows = j.at("windows").get<int64_t>();
    t.tokens = j.at("tokens").get<int64_t>();
    for (const auto& e : j.at("tensors")) {
      TensorSensitivity s;
      s.name = e.at("name").get<std::string>();
      s.shape = e.at("shape").get<std::vector<int64_t>>();
      s.parameters = e.at("parameters").get<int64_t>();
      s.probe = type_named(e.at("probe"), path);
      s.probe_kl = e.at("probe_kl").get<double>();
      s.gain = e.at("gain").get<double>();
      for (const auto& c : e.at("types")) {
        TypeCost cost;
        cost.type = type_named(c.at("type"), path);
        cost.wanted = type_named(c.at("wanted"), path);
        cost.bytes = c.at("bytes").get<uint64_t>();
        cost.error2 = c.at("error2").get<double>();
        s.costs.push_back(cost);
      }
      if (s.costs.empty()) throw Error(path, cat(s.name, ": no types"));
      t.tensors.push_back(std::move(s));
    }
    return t;
  } catch (const nlohmann::json::exception& e) {
    throw Error(path, cat("not a sensitivity table: ", e.what()));
  } catch (const std::invalid_argument&) {
    throw Error(path, "not a sensitivity table: bad key");
  } catch (const std::out_of_range&) {
    throw Error(path, "not a sensitivity table: bad key");
  }
}

std::optional<SensitivityTable> read_sensitivity_cache(const std::string& path, uint64_t key) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(read_text_file(path), nullptr, false);
  if (j.is_discarded()) throw Error(path, "not a sensitivity table: not JSON");
  SensitivityTable t = sensitivity_table_from_json(j, path);
  if (t.key != key) return std::nullopt;
  t.from_cache = true;
  t.seconds = 0.0;
  return t;
}

void write_sensitivity_cache(const std::string& path, const SensitivityTable& table) {
  write_file_atomically(path, sensitivity_table_json(table).dump(1) + "\n");
}

SensitivityTable cached_tensor_sensitivity(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                           const SensitivityOptions& options, const std::string& cache_path) {
  std::error_code ec;  // the key hashes every weight: only when there is a file to compare it with
  if (!cache_path.empty() && std::filesystem::exists(cache_path, ec))
    if (std::optional<SensitivityTable> t = read_sensitivity_cache(cache_path, sensitivity_key(ckpt, windows, options)))
      return *t;
  SensitivityTable t = measure_tensor_sensitivity(ckpt, windows, options);
  if (!cache_path.empty()) write_sensitivity_cache(cache_path, t);
  return t;
}

}  // namespace lmpack
