// Activation statistics for importance matrices: per tensor name, the sum of
// squared inputs of each column and the number of input rows seen, in double.
// Model-free: whoever runs the model (e.g. a LinearInputObserver in
// model/forward.h) feeds it rows; to_importance_matrix() turns the sums into
// llama.cpp's imatrix values (io/imatrix.h): mean of x² per column.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/imatrix.h"

namespace lmpack {

class ActStats {
 public:
  struct Entry {
    std::vector<double> sum_sq;  // [cols]
    int64_t count = 0;           // rows seen
  };

  // Adds rows x [m, cols]. The first call for a name fixes its column count;
  // a later call with another count is an internal error (LMPACK_CHECK).
  void add(const std::string& name, const float* x, int64_t m, int64_t cols);

  const std::map<std::string, Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  // values = sum_sq / count per column (entries with count 0 are skipped);
  // chunk_count, chunk_size and datasets as given.
  ImportanceMatrix to_importance_matrix(int64_t chunk_count, int64_t chunk_size,
                                        std::vector<std::string> datasets) const;

 private:
  std::map<std::string, Entry> entries_;
};

}  // namespace lmpack
