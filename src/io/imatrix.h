// Importance matrices (llama.cpp's imatrix): per tensor, the mean of the
// squared inputs of each column over a calibration set. Read from both of
// llama.cpp's layouts: the GGUF imatrix file (tensors "<name>.in_sum2" and
// "<name>.counts", general.type "imatrix") and the legacy .dat (int32 count;
// per entry int32 name length, name, int32 ncall, int32 nval, float[nval];
// then optionally int32 chunks and the dataset name).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lmpack {

struct ImportanceMatrix {
  // tensor name as the file spells it (GGUF names, e.g. "blk.0.attn_q.weight")
  // -> per-column importance [cols] (per expert concatenated for MoE: rows of cols)
  std::map<std::string, std::vector<float>> values;
  int64_t chunk_count = 0;
  std::vector<std::string> datasets;
};

// Detects the layout by its magic. Throws Error(path, ...) for truncated or
// inconsistent files, negative/NaN values, counts of zero.
ImportanceMatrix read_imatrix(const std::string& path);
// Writes the GGUF layout (used by tests now, by `lmpack imatrix` later).
void write_imatrix_gguf(const ImportanceMatrix& m, const std::string& path);

}  // namespace lmpack
