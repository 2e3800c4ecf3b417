// The safetensors JSON header, parsed as a stream of SAX events into tensor
// infos (internal to src/io; io/safetensors.cpp frames it). No JSON document
// is built, so the cost of a header is its tensors, never its nesting or
// junk: a hostile 100 MB header costs no more than a real one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "io/safetensors.h"

namespace lmpack {

// Fills out.tensors (file order) and out.metadata from `json`, checking each
// entry's dtype, shape and data_offsets against the data section
// [data, data + data_size). Throws Error(where, ...) naming the tensor and field.
void parse_safetensors_header(std::string_view json, const uint8_t* data, uint64_t data_size,
                              const std::string& where, SafetensorsFile& out);

}  // namespace lmpack
