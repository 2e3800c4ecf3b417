// decode_compressed; see compressed_checkpoint.h.
#include "pipeline/compressed_checkpoint.h"

#include <memory>
#include <vector>

#include "core/error.h"
#include "formats/decode.h"
#include "methods/gptq_format.h"

namespace lmpack {

Checkpoint decode_compressed(const Checkpoint& ckpt, CalibratedTensors& calibrated,
                             const std::map<std::string, DType>& types, const ImportanceMatrix& importance) {
  Checkpoint out = ckpt;
  for (const auto& [name, t] : ckpt.tensors) {
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    const bool matrix = t.shape.size() == 2;
    auto type_it = types.find(name);
    if (calibrated.handles(name)) {
      if (!matrix) {
        v = calibrated.take_f32(name);
      } else if (QuantizedMatrix m = calibrated.take_matrix(name); m.int_groups()) {
        for (int64_t r = 0; r < m.rows; ++r)
          for (int64_t c = 0; c < m.cols; ++c) {
            const int64_t g = r * m.n_groups + m.g_idx[c];
            v[r * m.cols + c] = m.scales[g] * static_cast<float>(static_cast<int32_t>(m.codes[r * m.cols + c]) - m.zeros[g]);
          }
      } else {
        decode_to_f32(v.data(), m.data.data(), m.type, t.n_elements());
      }
    } else {
      decode_to_f32(v.data(), t.data, t.dtype, t.n_elements());
      if (type_it != types.end() && type_it->second != DType::F32) {
        auto imp = importance.values.find(name);
        const float* w_imp = imp != importance.values.end() && static_cast<int64_t>(imp->second.size()) == t.cols()
                                 ? imp->second.data()
                                 : nullptr;
        QuantizedMatrix q = rtn_quantize_format(v.data(), t.rows(), t.cols(), type_it->second, w_imp);
        v.swap(q.dequantized);
      }
    }
    out.set_f32(name, t.shape, std::move(v));
  }
  return out;
}

}  // namespace lmpack
