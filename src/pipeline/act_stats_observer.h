// A forward-pass observer (runtime/forward.h) that adds the input rows of
// every linear layer to an ActStats (stats/act_stats.h): the importance
// matrix job and the sensitivity measurement both collect the activations'
// mean squares this way.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/forward.h"
#include "stats/act_stats.h"

namespace lmpack {

class ActStatsObserver final : public LinearInputObserver {
 public:
  explicit ActStatsObserver(ActStats& stats) : stats_(stats) {}
  void observe(const std::string& name, const float* x, int64_t m, int64_t cols) override {
    stats_.add(name, x, m, cols);
  }

 private:
  ActStats& stats_;
};

}  // namespace lmpack
