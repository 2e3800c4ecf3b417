// Library fields -> CLI flags; see cli_errors.h.
#include "cli_errors.h"

#include <cstdio>
#include <map>

namespace lmpack::cli {

namespace {

const std::map<std::string, std::string>& shared_flags() {
  static const std::map<std::string, std::string> kFlags = {
      {"calibration", "--calib"},
      {"calibration.files", "--calib"},
      {"calibration.samples", "--calib-samples"},
      {"calibration.ctx", "--calib-ctx"},
      {"importance", "--imatrix"},
      {"awq_clip", "--awq-clip"},
      {"awq_grid", "--awq-grid"},
      {"act_order", "--act-order"},
      {"damp", "--damp"},
      {"min_expert_tokens", "--min-expert-tokens"},
      {"pattern", "--pattern"},
      {"sparsity", "--sparsity"},
      {"structure.heads", "--heads"},
      {"structure.ffn_width", "--ffn-width"},
      {"structure.drop_blocks", "--drop-blocks"},
      {"structure.drop_experts", "--drop-experts"},
      {"export.bits", "--bits"},
      {"export.format", "--format"},
      {"export.group_size", "--group-size"},
      {"export.damp", "--damp"},
      {"export.ct_layout", "--ct-layout"},
      {"type", "TYPE"},
      {"target", "--target-bpw/--target-size"},
      {"target.types", "--types"},
      {"target.probe", "--probe"},
      {"target.max_tokens", "--sensitivity-tokens"},
      {"tensor_plan", "--target-bpw/--target-size"},
      {"tensor_types", "--tensor-type"},
      {"output_type", "--output-type"},
      {"token_embedding_type", "--token-embedding-type"},
      {"sampling.temperature", "--temperature"},
      {"sampling.top_p", "--top-p"},
      {"model", "MODEL"},
      {"output", "OUT"},
      {"tokenizer", "--tokenizer"},
      {"ctx", "--ctx"},
      {"chunks", "--chunks"},
      {"calibration.consecutive", "--consecutive"},
  };
  return kFlags;
}

// The flag for a field, or "" when neither table names it.
std::string flag_for(const std::string& field, const Command* command) {
  if (command != nullptr) {
    auto own = command->flags.find(field);
    if (own != command->flags.end()) return own->second;
  }
  auto it = shared_flags().find(field);
  return it == shared_flags().end() ? std::string() : it->second;
}

// A library message refers to other fields in backquotes ("give more text or
// lower `calibration.ctx`"): each becomes its flag.
std::string with_flags(const std::string& text, const Command* command) {
  std::string out;
  size_t at = 0;
  while (true) {
    const size_t open = text.find('`', at);
    const size_t close = open == std::string::npos ? open : text.find('`', open + 1);
    if (close == std::string::npos) break;
    const std::string flag = flag_for(text.substr(open + 1, close - open - 1), command);
    out += text.substr(at, open - at) + (flag.empty() ? text.substr(open, close + 1 - open) : flag);
    at = close + 1;
  }
  return out + text.substr(at);
}

}  // namespace

std::string message_for_user(const Error& e, const Command* command) {
  std::string field = e.where();
  const size_t close = field.find("].");
  const bool stripped = command != nullptr && command->flat_steps && field.rfind("steps[", 0) == 0 &&
                        close != std::string::npos;
  if (stripped) field = field.substr(close + 2);
  const std::string flag = flag_for(field, command);
  if (!flag.empty()) return flag + ": " + with_flags(e.problem(), command);
  return with_flags(stripped ? field + ": " + e.problem() : e.what(), command);
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::fprintf(stderr, "lmpack: warning: %s\n", with_flags(w, nullptr).c_str());
}

}  // namespace lmpack::cli
