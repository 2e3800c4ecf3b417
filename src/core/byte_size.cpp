// parse_byte_size; see byte_size.h.
#include "core/byte_size.h"

#include <cctype>
#include <cmath>
#include <map>

#include "core/error.h"

namespace lmpack {

uint64_t parse_byte_size(const std::string& option, const std::string& text) {
  const auto bad = [&] { return Error(option, cat("'", text, "' is not a size such as 512M, 2.5GiB or 3GB")); };
  size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw bad();
  }
  std::string unit;
  for (size_t i = used; i < text.size(); ++i)
    if (!std::isspace(static_cast<unsigned char>(text[i])))
      unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  static const std::map<std::string, double> kUnits = {
      {"", 1.0},          {"b", 1.0},
      {"k", 0x1p10},      {"m", 0x1p20},      {"g", 0x1p30},      {"t", 0x1p40},
      {"kib", 0x1p10},    {"mib", 0x1p20},    {"gib", 0x1p30},    {"tib", 0x1p40},
      {"kb", 1e3},        {"mb", 1e6},        {"gb", 1e9},        {"tb", 1e12}};
  const auto it = kUnits.find(unit);
  if (it == kUnits.end()) throw bad();
  const double bytes = value * it->second;
  if (!std::isfinite(bytes) || bytes < 1.0 || bytes > 1e18) throw bad();
  return static_cast<uint64_t>(bytes);
}

}  // namespace lmpack
