// A sensitivity table (pipeline/tensor_sensitivity.h) as JSON, and a cache
// file of one: a sweep or a second allocation on the same model, windows and
// options reads the table back instead of measuring it again.
//
// The file holds the table's key (sensitivity_key); a table whose key
// differs from the one asked for is measured again and the file replaced.
// Written atomically (core/atomic_file.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "pipeline/tensor_sensitivity.h"

namespace lmpack {

nlohmann::json sensitivity_table_json(const SensitivityTable& table);
// Error(path, ...) for a document that is not a table.
SensitivityTable sensitivity_table_from_json(const nlohmann::json& j, const std::string& path);

// The table in `path` when it exists and holds `key`; nullopt otherwise (no
// file, another key). Error(path, ...) for a file that is not a table.
std::optional<SensitivityTable> read_sensitivity_cache(const std::string& path, uint64_t key);
void write_sensitivity_cache(const std::string& path, const SensitivityTable& table);

// The table from `cache_path` when it holds these inputs, else measured (and
// written there when cache_path is not empty).
SensitivityTable cached_tensor_sensitivity(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                           const SensitivityOptions& options, const std::string& cache_path);

}  // namespace lmpack
