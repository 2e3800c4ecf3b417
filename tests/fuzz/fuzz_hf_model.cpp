// Harness over a Hugging Face folder in one input: config.json's text, a NUL
// byte, then model.safetensors. The model loader on top of the readers runs
// (canonical names, tied classifier, q/k row permutation, GPTQ/AWQ linears
// with the config's quantization_config), then validate_checkpoint.
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "io/safetensors.h"
#include "model/load_hf.h"
#include "model/loaders.h"

namespace lmpack::fuzz {

void fuzz_hf_model(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  if (nul == std::string_view::npos) return;  // fuzz_hf_config covers config.json alone
  const std::string config_where = kWhere + "/config.json", st_where = kWhere + "/model.safetensors";
  run_checked(
      [&] {
        const SafetensorsFile st = parse_safetensors(data + nul + 1, size - nul - 1, st_where);
        std::vector<HfTensor> tensors;
        for (const TensorInfo& t : st.tensors) tensors.push_back({t, st_where});
        const Checkpoint c = checkpoint_from_hf(input.substr(0, nul), std::move(tensors), kWhere);
        for (const auto& [name, t] : c.tensors) LMPACK_FUZZ_CHECK(t.name == name, "tensor ", name, " named ", t.name);
        validate_checkpoint(c);
      },
      {kWhere, config_where, st_where});
}

}  // namespace lmpack::fuzz
