// What each tensor's storage type costs in model quality, measured on
// calibration text: the input of a bit allocation (pipeline/bit_allocation.h).
//
// For every matrix that a GGUF output quantizes (the block linears, the token
// embeddings and the output), and every candidate type:
//   error²_t(T)  the tensor's relative squared error when encoded in T (the
//                encoder weighted by the importance the output will be
//                written with), weighted per input column by the mean square
//                of the activations that column meets on the windows:
//                sum_rj d_j (w_rj - ŵ_rj)² / sum_rj d_j w_rj²;
//   gain_t       the measured change in the model's output, mean KL(base ||
//                probe) over every position of the windows, when this tensor
//                alone is encoded in the probe type (the lowest candidate)
//                and every other tensor is kept as it is, divided by
//                error²_t(probe);
//   predicted ΔKL_t(T) = gain_t · error²_t(T).
// Measured on ts-llama-4.9M (stop 23's note), this predicts each tensor's
// own ΔKL at q4_K from a q2_K probe with a Spearman rank correlation of
// 0.995, and the ΔKL of whole mixed allocations (the per-tensor predictions
// summed) within 0.997x to 1.109x; the error alone, without the measured
// gain, ranks tensors far worse (Spearman 0.43 to 0.47).
//
// Cost: one forward pass over the windows for the base and one per tensor
// (ts-llama-4.9M: 43 tensors, about 20 s for 4096 tokens), and one encoding of
// every tensor in every candidate type. The base log-probabilities are held
// in memory (tokens x vocab floats; the tokens are capped so that this stays
// under 1 GiB).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/imatrix.h"
#include "model/checkpoint.h"

namespace lmpack {

// q2_K q3_K q4_K q5_K q6_K q8_0: the GGUF types llama.cpp runs on every
// backend, from 2.6 to 8.5 bits per weight.
std::vector<DType> default_allocation_types();

struct SensitivityOptions {
  std::vector<DType> types;  // candidates; empty: default_allocation_types()
  // The type each tensor is measured in (the lowest candidate when unset: it
  // moves the output most, so its KL stands clearest above rounding noise).
  std::optional<DType> probe;
  // The importance the output's encoder weights rows with (an imatrix), or
  // nullptr for none: the errors are those of the encoding that will be written.
  std::shared_ptr<const ImportanceMatrix> importance;
  int64_t max_tokens = 4096;  // of the calibration windows, whole windows, at least one
  bool show_progress = true;
};

struct TypeCost {
  DType type = DType::F32;    // as written (after the row fallback)
  DType wanted = DType::F32;  // the candidate it stands for
  uint64_t bytes = 0;
  double error2 = 0.0;  // relative squared error, activation-weighted
};

struct TensorSensitivity {
  std::string name;  // as the GGUF output names it
  std::vector<int64_t> shape;
  int64_t parameters = 0;
  DType probe = DType::F32;  // as encoded (after the row fallback)
  double probe_kl = 0.0;     // measured mean KL with only this tensor in `probe`
  double gain = 0.0;         // probe_kl / error²(probe); 0 when that error is 0
  std::vector<TypeCost> costs;  // one per distinct written type, fewest bytes first
  double predicted_kl(const TypeCost& c) const { return gain * c.error2; }
};

struct SensitivityTable {
  uint64_t key = 0;     // sensitivity_key of the inputs that made it
  DType probe = DType::F32;
  std::vector<DType> types;
  int64_t windows = 0;  // windows measured on, and their tokens
  int64_t tokens = 0;
  std::vector<TensorSensitivity> tensors;  // in the output's order
  double seconds = 0.0;     // to measure (0 when read from a cache)
  bool from_cache = false;
};

// The options with defaults filled in and checked: Error("types", ...) for
// an empty list after dedupe or a type GGUF cannot write, Error("probe", ...)
// for a probe that is not a candidate, Error("max_tokens", ...) below 1.
SensitivityOptions resolved_sensitivity_options(const SensitivityOptions& options);

// A digest of everything a table depends on: the model's tensors (names,
// types, shapes, bytes), the windows used, the types, the probe, the
// importance and max_tokens. Equal keys: equal tables.
uint64_t sensitivity_key(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                         const SensitivityOptions& options);

// Measures the table. windows: calibration token windows (at least one);
// polls interrupts between forward passes; Error(tensor name, ...) for a
// tensor with non-finite values.
SensitivityTable measure_tensor_sensitivity(const Checkpoint& ckpt, const std::vector<std::vector<int32_t>>& windows,
                                            const SensitivityOptions& options);

}  // namespace lmpack
