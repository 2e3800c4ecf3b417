// JSON that came from a file (config.json, tokenizer.json, quantization
// configs, shard indexes) parsed into nlohmann::json under limits that keep
// hostile text cheap: nesting depth (copying, dumping and comparing nlohmann
// values recurse once per level) and the number of values (each costs tens of
// bytes of RAM for as little as two bytes of text). Every error is one line,
// Error("<where>: ...").
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace lmpack {

struct JsonLimits {
  int max_depth = 64;                        // objects and arrays inside each other
  size_t max_values = size_t{1} << 20;       // scalars, objects and arrays in all
};

// Throws Error(where, "not valid JSON ...") with the byte where parsing failed,
// or Error(where, ...) naming the limit exceeded.
nlohmann::json parse_json_text(std::string_view text, const std::string& where, const JsonLimits& limits = {});

// A value as a short one-line excerpt for error messages: compact JSON, cut
// to max_bytes with "...", every byte outside printable ASCII escaped \xNN.
std::string json_excerpt(const nlohmann::json& value, size_t max_bytes = 80);

}  // namespace lmpack
