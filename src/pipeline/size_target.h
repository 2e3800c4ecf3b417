// A size target for a GGUF output (`quantize --target-bpw B | --target-size
// S`): every matrix the output quantizes gets the candidate type that makes
// the predicted loss of the whole model least while the output fits the
// target. The prediction is the tensors' measured sensitivity
// (pipeline/tensor_sensitivity.h), summed; the choice is a multiple-choice
// knapsack (pipeline/bit_allocation.h).
//
// Sizes:
//   bits per weight  the tensors' bytes x 8 / the parameters of every tensor
//                    of the file (norms included): what lmpack's and
//                    llama.cpp's summaries print;
//   file size        OUT's bytes, header and metadata included.
// Tensors that the user's options fix (tensor_types, output_type,
// token_embedding_type) and the tensors kept in float (norms) are counted at
// their type and not chosen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "model/checkpoint.h"
#include "pipeline/gguf_quantize.h"
#include "pipeline/tensor_sensitivity.h"

namespace lmpack {

struct SizeTarget {
  double bits_per_weight = 0.0;  // > 0: this target
  uint64_t file_bytes = 0;       // > 0: this target (exactly one of the two)
  SensitivityOptions sensitivity;
  std::string cache;  // a sensitivity cache file (pipeline/sensitivity_cache.h); "" : none
  bool set() const { return bits_per_weight > 0.0 || file_bytes > 0; }
};

// "3.5 bpw" or "2.0 GB (2000000000 bytes)".
std::string describe_size_target(const SizeTarget& target);

// Error("target", ...) for neither or both targets, a bits per weight
// outside (0, 32], and the sensitivity options' errors.
void validate_size_target(const SizeTarget& target);

struct AllocatedTensor {
  std::string name;
  DType type = DType::F32;
  uint64_t bytes = 0;
  double error2 = 0.0;
  double predicted_kl = 0.0;
  bool fixed = false;  // the user's options chose it, not the allocation
};

struct SizeAllocation {
  std::string target;            // describe_size_target
  uint64_t target_bytes = 0;     // the tensors' bytes the target allows (the file's, less its overhead)
  uint64_t overhead_bytes = 0;   // header, metadata and padding, at most (file-size targets)
  uint64_t fixed_bytes = 0;      // tensors not chosen: float ones, user-fixed ones
  uint64_t tensor_bytes = 0;     // every tensor's bytes as allocated
  int64_t parameters = 0;        // every tensor of the file
  double predicted_kl = 0.0;     // the sum over the chosen tensors
  std::vector<AllocatedTensor> tensors;  // the chosen ones (fixed ones marked), in the output's order
  SensitivityTable sensitivity;
  double bits_per_weight() const {
    return parameters ? 8.0 * static_cast<double>(tensor_bytes) / static_cast<double>(parameters) : 0.0;
  }
};

// The target is below the smallest output the candidate types make (every
// chosen tensor in its fewest-bytes type): a sweep skips such a target.
class TargetBelowSmallest final : public Error {
 public:
  TargetBelowSmallest(const std::string& where, const std::string& problem, double smallest_bpw)
      : Error(where, problem), smallest_bits_per_weight(smallest_bpw) {}
  double smallest_bits_per_weight;
};

// Measures (or reads from the cache) the sensitivity of `ckpt` on `windows`,
// allocates, and writes the result into `options`: tensor_plan (every
// allocated tensor), allocation (the JSON stored as lmpack.allocation) and
// type_name (the most common type by bytes, for general.file_type), with
// pure set. options' imatrix (read) is the importance the errors are
// measured with. TargetBelowSmallest when the target is below the smallest
// model the candidates make.
SizeAllocation allocate_to_target(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                  const SizeTarget& target, QuantizeOptions& options);

}  // namespace lmpack
