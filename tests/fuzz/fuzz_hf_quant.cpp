// Harness over a GPTQ/AWQ folder's quantization config: the first byte picks
// where the config comes from (config.json, quantize_config.json,
// quant_config.json), the JSON text follows, and after an optional NUL byte a
// safetensors file whose .qweight/.qzeros/.scales/.g_idx tensors are
// dequantized with that config.
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "formats/format_sizes.h"
#include "fuzz_check.h"
#include "fuzz_harness.h"
#include "io/safetensors.h"
#include "model/load_hf_int.h"

namespace lmpack::fuzz {

void fuzz_hf_quant(const uint8_t* data, size_t size) {
  if (size == 0) return;
  static const HfQuantSource kSources[] = {HfQuantSource::kConfigJson, HfQuantSource::kQuantizeConfig,
                                           HfQuantSource::kQuantConfig};
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = input.find('\0');
  const HfQuantConfigText config{std::string(input.substr(0, nul)), kWhere, kSources[data[0] % 3]};
  if (nul == std::string_view::npos) {
    run_checked([&] { check_hf_quant_config(config); });
    return;
  }
  const std::string st_where = kWhere + ".safetensors";
  const uint8_t* st_data = data + 1 + nul + 1;
  const size_t st_size = size - 1 - nul - 1;
  run_checked(
      [&] {
        const SafetensorsFile st = parse_safetensors(st_data, st_size, st_where);
        std::vector<HfTensor> tensors;
        for (const TensorInfo& t : st.tensors) tensors.push_back({t, st_where});
        Checkpoint ckpt;
        dequantize_hf_int_linears(config, tensors, ckpt);
        for (const HfTensor& t : tensors)
          LMPACK_FUZZ_CHECK(t.info.nbytes == dtype_bytes(t.info.dtype, t.info.n_elements()), "tensor byte count");
      },
      {kWhere, st_where});
}

}  // namespace lmpack::fuzz
