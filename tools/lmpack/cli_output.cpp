#include "cli_output.h"

#include "model/save_hf.h"

namespace lmpack::cli {

void check_output(const std::string& out, OutputKind kind, const std::vector<std::string>& inputs,
                  const std::vector<std::string>& more_inputs) {
  std::vector<std::string> all = inputs;
  all.insert(all.end(), more_inputs.begin(), more_inputs.end());
  check_output_path(out, kind, all, kind == OutputKind::kFolder ? hf_output_files() : std::vector<std::string>{});
}

}  // namespace lmpack::cli
