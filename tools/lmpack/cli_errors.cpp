// Library fields -> CLI flags; see cli_errors.h.
#include "cli_errors.h"

#include <map>

namespace lmpack::cli {

std::string message_for_user(const Error& e) {
  static const std::map<std::string, std::string> kFlags = {
      {"calibration", "--calib"},
      {"calibration.files", "--calib"},
      {"calibration.samples", "--calib-samples"},
      {"calibration.ctx", "--calib-ctx"},
      {"importance", "--imatrix"},
      {"awq_clip", "--awq-clip"},
      {"pattern", "--pattern"},
      {"sparsity", "--sparsity"},
      {"structure.heads", "--heads"},
      {"structure.ffn_width", "--ffn-width"},
      {"structure.drop_blocks", "--drop-blocks"},
      {"export.bits", "--bits"},
      {"export.format", "--format"},
      {"export.group_size", "--group-size"},
      {"export.damp", "--damp"},
      {"type", "TYPE"},
      {"tensor_types", "--tensor-type"},
      {"output_type", "--output-type"},
      {"token_embedding_type", "--token-embedding-type"},
      {"sampling.temperature", "--temperature"},
      {"sampling.top_p", "--top-p"},
      {"model", "MODEL"},
      {"output", "OUT"},
  };
  auto it = kFlags.find(e.where());
  if (it == kFlags.end()) return e.what();
  return it->second + ": " + e.problem();
}

}  // namespace lmpack::cli
