#include "train/train_state.h"

#include <cstring>

#include "core/error.h"
#include "core/printable.h"
#include "io/safetensors.h"

namespace lmpack {
namespace {

constexpr const char* kMarker = "lmpack.train_state";
constexpr const char* kTensors[3] = {"values", "adam.first", "adam.second"};

}  // namespace

void save_train_state(const std::string& path, const TrainState& state) {
  LMPACK_CHECK(state.first.size() == state.values.size() && state.second.size() == state.values.size(),
               "training state of mismatched sizes");
  const int64_t n = static_cast<int64_t>(state.values.size());
  std::vector<SafetensorsEntry> entries;
  for (const char* name : kTensors) entries.push_back({name, DType::F32, {n}});
  std::map<std::string, std::string> metadata{{kMarker, "1"}, {"step", std::to_string(state.step)}};
  for (const auto& [key, value] : state.run) metadata["run." + key] = value;
  const std::vector<float>* parts[3] = {&state.values, &state.first, &state.second};
  write_safetensors(path, entries, [&](size_t i, SafetensorsSink& sink) {
    sink.write(parts[i]->data(), parts[i]->size() * sizeof(float));
  }, metadata);
}

TrainState load_train_state(const std::string& path) {
  const SafetensorsFile file = read_safetensors(path);
  auto marker = file.metadata.find(kMarker);
  if (marker == file.metadata.end())
    throw Error(path, "is not an lmpack training state (no lmpack.train_state in its metadata)");
  if (marker->second != "1")
    throw Error(path, cat("is a training state of version '", printable(marker->second), "', this lmpack reads 1"));
  TrainState state;
  auto step = file.metadata.find("step");
  char* end = nullptr;
  if (step == file.metadata.end() || (state.step = std::strtoll(step->second.c_str(), &end, 10), *end != '\0') ||
      state.step < 0)
    throw Error(path, "training state without a valid step count");
  for (const auto& [key, value] : file.metadata)
    if (key.starts_with("run.")) state.run[key.substr(4)] = value;
  std::vector<float>* parts[3] = {&state.values, &state.first, &state.second};
  for (int i = 0; i < 3; ++i) {
    const TensorInfo* t = file.find(kTensors[i]);
    if (t == nullptr || t->dtype != DType::F32 || t->shape.size() != 1)
      throw Error(path, cat("training state without an F32 vector '", kTensors[i], "'"));
    if (i > 0 && t->n_elements() != static_cast<int64_t>(state.values.size()))
      throw Error(path, cat("training state whose '", kTensors[i], "' has ", t->n_elements(), " values, not ",
                            state.values.size()));
    parts[i]->resize(static_cast<size_t>(t->n_elements()));
    std::memcpy(parts[i]->data(), t->data, t->nbytes);
  }
  return state;
}

void check_same_run(const TrainState& state, const std::map<std::string, std::string>& run, const std::string& path,
                    const std::string& field) {
  auto show = [](const std::map<std::string, std::string>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? std::string("(absent)") : printable(it->second);
  };
  std::map<std::string, std::string> keys = run;
  keys.insert(state.run.begin(), state.run.end());
  for (const auto& [key, unused] : keys) {
    const std::string was = show(state.run, key), now = show(run, key);
    if (was != now)
      throw Error(field, cat(path, " is the state of another run: ", key, " was ", was, ", is now ", now));
  }
}

}  // namespace lmpack
