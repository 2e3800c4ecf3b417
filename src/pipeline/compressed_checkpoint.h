// A compressed model held in memory as F32, for measuring what compression
// lost without writing a file: every tensor is replaced by exactly what a
// writer would store, decoded back. Block tensors come from a
// CalibratedTensors (pipeline/sequential_calibration.h); the others are
// encoded with the type `types` gives them (the GGUF mix) and the importance
// of `importance` when it has their name, or kept as they are when `types`
// does not name them. The GGUF writer stores the same bytes (tested), so a
// perplexity measured here is the file's.
#pragma once

#include <map>
#include <string>

#include "core/dtype.h"
#include "io/imatrix.h"
#include "model/checkpoint.h"
#include "pipeline/calibrated_tensors.h"

namespace lmpack {

// types: the GGUF type of the tensors the calibrated object does not
// handle (the block linears come as they were compressed: encoded rows are
// decoded, integer groups dequantized as scale · (code - zero) by g_idx).
Checkpoint decode_compressed(const Checkpoint& ckpt, CalibratedTensors& calibrated,
                             const std::map<std::string, DType>& types, const ImportanceMatrix& importance);

}  // namespace lmpack
