// Importance matrices (llama.cpp's imatrix): per tensor, the mean of the
// squared inputs of each column over a calibration set. Read from both of
// llama.cpp's layouts (tools/imatrix/imatrix.cpp):
//
// GGUF (current): general.type "imatrix", imatrix.datasets (string array),
//   imatrix.chunk_count and imatrix.chunk_size (u32); per weight tensor W two
//   F32 tensors "W.in_sum2" ne {cols, n_mat} (sums of squared inputs) and
//   "W.counts" ne {1, n_mat} (inputs seen per matrix; n_mat > 1 only for MoE
//   experts). value = in_sum2 / count; a matrix with count 0 (an expert never
//   routed to) gets all 1, as llama.cpp's quantize does. "W.in_sum" (plain
//   sums, newer files) is ignored.
// Legacy .dat: int32 n_entries; per entry int32 name length, name bytes,
//   int32 ncall, int32 nval, float[nval] holding mean * ncall; then optionally
//   int32 chunk count and (int32 length, bytes) the dataset name. value =
//   stored / ncall (stored as is when ncall <= 0), as llama.cpp's quantize does.
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
  // Entries holding several matrices' values (a mixture of experts' stacked
  // ffn_*_exps: one row of cols per expert), and how many; absent: one.
  std::map<std::string, int64_t> matrices;
  int64_t chunk_count = 0;
  int64_t chunk_size = 0;  // tokens per chunk (GGUF only; 0 when unknown)
  std::vector<std::string> datasets;
};

// Detects the layout by its magic ("GGUF" or not). Throws Error(path, ...)
// for truncated or inconsistent files, a GGUF of another general.type,
// negative/NaN/infinite values or counts, and files without any entry.
ImportanceMatrix read_imatrix(const std::string& path);
// The same over bytes in memory (tests, fuzzing); `where` names them in errors.
ImportanceMatrix parse_imatrix(const uint8_t* data, size_t size, const std::string& where);

// Writes the GGUF layout llama.cpp's quantize reads: per tensor in_sum2 ne
// {cols, n_mat} and counts ne {1, n_mat} (n_mat from `matrices`, else 1),
// counts = chunk_count * chunk_size tokens (1 when either is 0) and in_sum2 =
// value * count. Throws Error(path, ...) for a negative or non-finite value, an
// empty vector, or a name too long for GGUF. Atomic: nothing at path on failure.
void write_imatrix_gguf(const ImportanceMatrix& m, const std::string& path);

}  // namespace lmpack
