// A training run's state between sessions: the parameters, AdamW's moments
// and step count, and what defines the run (model shape, batch, schedule,
// seed, data), so that a resumed run continues bit for bit or refuses to
// start. Stored as a safetensors file (tensors "values", "adam.first",
// "adam.second", all F32 [n]; metadata "lmpack.train_state" = "1",
// "step" = N, and one "run.<key>" entry per item of the run's description),
// written atomically.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lmpack {

struct TrainState {
  int64_t step = 0;  // optimizer steps done
  std::vector<float> values, first, second;
  std::map<std::string, std::string> run;  // key -> value, as given to save
};

void save_train_state(const std::string& path, const TrainState& state);
// Throws Error(path, ...) for a file that is not a training state (or is
// damaged: the usual safetensors checks, tensors of different sizes).
TrainState load_train_state(const std::string& path);

// Error(`field`, "<path> is the state of another run: <key> was A, is now B")
// for the first key whose value differs (or is missing on either side).
void check_same_run(const TrainState& state, const std::map<std::string, std::string>& run, const std::string& path,
                    const std::string& field);

}  // namespace lmpack
