// parse_json_text and json_excerpt; see json_text.h.
#include "io/json_text.h"

#include "core/error.h"
#include "core/printable.h"

namespace lmpack {

nlohmann::json parse_json_text(std::string_view text, const std::string& where, const JsonLimits& limits) {
  using nlohmann::json;
  size_t values = 0;
  // The callback sees every value as it is parsed; throwing from it stops the
  // parser before a hostile document is built (nothing in nlohmann catches it).
  json::parser_callback_t check = [&](int depth, json::parse_event_t event, json&) {
    if (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) {
      if (depth >= limits.max_depth)
        throw Error(where, cat("JSON nests objects and arrays deeper than ", limits.max_depth, " levels"));
      ++values;
    } else if (event == json::parse_event_t::value) {
      ++values;
    }
    if (values > limits.max_values) throw Error(where, cat("JSON holds more than ", limits.max_values, " values"));
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/true);
  } catch (const json::parse_error& e) {
    // e.what() quotes the bytes last read, which may be anything.
    throw Error(where, cat("not valid JSON (at byte ", e.byte, "): ", printable(e.what(), 160)));
  } catch (const json::exception& e) {
    throw Error(where, cat("not valid JSON: ", printable(e.what(), 160)));
  }
}

std::string json_excerpt(const nlohmann::json& value, size_t max_bytes) {
  return printable(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), max_bytes);
}

}  // namespace lmpack
