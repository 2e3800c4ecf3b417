// convert_model; see convert.h.
#include "pipeline/convert.h"

#include <optional>

#include "core/dtype.h"
#include "core/error.h"
#include "core/output_path.h"
#include "core/stopwatch.h"
#include "model/load_model.h"
#include "model/save_hf.h"
#include "pipeline/gguf_quantize.h"

namespace lmpack {
namespace {

ConvertReport convert_to_gguf(const ConvertRequest& r) {
  const std::optional<DType> d = dtype_from_name(r.type);
  if (!d || (*d != DType::F32 && *d != DType::F16 && *d != DType::BF16 && *d != DType::Q8_0))
    throw Error("type", cat("must be f32, f16, bf16 or q8_0 for GGUF output, got '", r.type, "'"));
  const std::string t(dtype_name(*d));
  check_output_path(r.output, OutputKind::kFile, {r.model, r.tokenizer});
  const Checkpoint ckpt = load_model(r.model, r.tokenizer);
  QuantizeOptions q;
  q.type_name = t;
  q.pure = true;  // the converter's choice: every matrix this type, 1-D tensors F32
  q.recipe = ckpt.recipe;  // the same model, made the same way (save_hf keeps it too)
  const QuantizeReport written = quantize_to_gguf(ckpt, r.output, q);
  ConvertReport report;
  report.gguf = true;
  report.type = t;
  report.tensors = static_cast<int64_t>(written.tensors.size());
  report.parameters = written.parameters;
  report.file_bytes = written.file_bytes;
  report.seconds = written.seconds;
  for (const QuantizedTensor& tensor : written.tensors)
    if (tensor.fallback) report.fallbacks.push_back(tensor.note);
  return report;
}

ConvertReport convert_to_hf(const ConvertRequest& r) {
  const DType dtype = parse_float_dtype("type", r.type);
  check_output_path(r.output, OutputKind::kFolder, {r.model, r.tokenizer}, hf_output_files());
  const Checkpoint ckpt = load_model(r.model, r.tokenizer);
  Stopwatch clock;
  save_hf(ckpt, r.output, dtype);
  ConvertReport report;
  report.type = std::string(dtype_name(dtype));
  report.tensors = static_cast<int64_t>(ckpt.tensors.size());
  report.parameters = ckpt.parameter_count();
  report.seconds = clock.seconds();
  return report;
}

}  // namespace

ConvertReport convert_model(const ConvertRequest& r) {
  if (r.model.empty()) throw Error("model", "no model given");
  if (r.output.empty()) throw Error("output", "no output given");
  return is_gguf_path(r.output) ? convert_to_gguf(r) : convert_to_hf(r);
}

}  // namespace lmpack
