// Shared by the end-to-end benches that measure a run's peak memory: each
// measurement runs in a child process (this binary again, with its own
// arguments) so that its peak RSS is its own, and the random Llama-7B-shaped
// model they use is generated once (as a Hugging Face folder, in a forked
// child so that the parent never starts OpenMP before spawning) and converted
// once to an F32 GGUF, which loads as a pure memory mapping.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/random_model.h"

extern char** environ;

namespace lmpack::bench {

// ../shared (LMPACK_SHARED_DIR overrides).
inline std::string shared_dir() {
  const char* env = std::getenv("LMPACK_SHARED_DIR");
  return env ? env : std::string(LMPACK_SOURCE_DIR) + "/../shared";
}

// llama.cpp's Llama SPM test vocabulary (32000 tokens), for GGUF metadata.
inline std::string llama_vocab_path() {
  return shared_dir() + "/data/llamacpp-vocab-tests/ggml-vocab-llama-spm.gguf";
}

// Runs `self args...` with stdout into a file; returns that output ("" and
// ok = false when the child failed).
inline std::string spawn_child(const std::string& self, const std::vector<std::string>& args, const std::string& dir,
                               bool* ok) {
  const std::string out_path = dir + "/child.out";
  std::vector<std::string> all = {self};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  *ok = false;
  const int rc = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return "";
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  std::ifstream in(out_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(out_path);
  *ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return text;
}

// Makes dir/model (HF folder, random Llama-7B-shaped, 2 layers, F32, seed 7)
// unless present; `convert_args` are the arguments that make this binary's
// child write dir/model.gguf from it (F32) unless present. Then reads the
// GGUF once so that the first measurement does not also time the disk.
inline void ensure_random_7b_gguf(const std::string& self, const std::string& dir,
                                  const std::vector<std::string>& convert_args) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  if (!fs::exists(dir + "/model/model.safetensors")) {
    std::printf("generating the random model in %s/model ...\n", dir.c_str());
    std::fflush(stdout);
    RandomModelSpec spec;
    spec.config = llama7b_shaped_config(2);
    spec.dtype = DType::F32;
    spec.seed = 7;
    const pid_t pid = fork();
    if (pid == 0) {
      write_random_model(spec, dir + "/model");
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error(dir, "generating the model failed");
  }
  if (!fs::exists(dir + "/model.gguf")) {
    std::printf("converting it to %s/model.gguf (F32) ...\n", dir.c_str());
    std::fflush(stdout);
    bool ok = false;
    spawn_child(self, convert_args, dir, &ok);
    if (!fs::exists(dir + "/model.gguf")) throw Error(dir, "converting the model to GGUF failed");
  }
  std::ifstream warm(dir + "/model.gguf", std::ios::binary);
  std::vector<char> buf(1 << 20);  // small: a spawned child inherits our peak RSS
  while (warm.read(buf.data(), static_cast<std::streamsize>(buf.size())) || warm.gcount() > 0) {
  }
}

}  // namespace lmpack::bench
