// Activation statistics for importance matrices: per tensor name, the sum of
// squared inputs of each column and the number of input rows seen, in double.
// Model-free: whoever runs the model (e.g. a LinearInputObserver in
// runtime/forward.h) feeds it rows; mean_squares() turns the sums into
// llama.cpp's imatrix values: mean of x² per column (pipeline/imatrix_job.h
// makes the file's ImportanceMatrix of them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

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

  // sum_sq / count per column, by name (entries with count 0 are skipped).
  std::map<std::string, std::vector<float>> mean_squares() const;

 private:
  std::map<std::string, Entry> entries_;
};

}  // namespace lmpack
