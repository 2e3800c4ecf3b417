// Quantization throughput: quantize_to_gguf on a random model of Llama-7B
// layer shapes (hidden 4096, FFN 11008, 32 heads, 2 layers, vocab 32000,
// F32, separate output: about 2.7 GB) to Q8_0, Q4_0, Q4_K_M and Q2_K with 1
// and 2 threads, in GB/s of input, with the peak resident memory of each run.
//
// The model is generated once as a Hugging Face folder and converted once to
// an F32 GGUF (model.gguf), which is the input of every measurement: a GGUF
// loads as a pure memory mapping, whereas the HF loader permutes q/k rows
// into memory at load time, which would dominate the peak RSS.
// Each measurement runs in a child process (this binary with --one ...), so
// that its peak RSS is its own: a peak RSS near a chunk of rows, not the
// 2.7 GB input, shows the streaming works.
// The vocabulary (needed for GGUF metadata) is llama.cpp's Llama SPM test
// vocabulary from ../shared (32000 tokens).
//
// Usage: quantize_bench [DIR]   (DIR keeps the generated model between runs;
// default /tmp/lmpack-quantize-bench)
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "eval/resource_usage.h"
#include "model/checkpoint.h"
#include "model/random_model.h"
#include "pipeline/gguf_quantize.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace lmpack;

std::string vocab_path() {
  const char* env = std::getenv("LMPACK_SHARED_DIR");
  const std::string shared = env ? env : std::string(LMPACK_SOURCE_DIR) + "/../shared";
  return shared + "/data/llamacpp-vocab-tests/ggml-vocab-llama-spm.gguf";
}

// Child: one quantization; prints "input_bytes output_bytes seconds peak_rss".
// TYPE "convert": writes DIR/model.gguf (F32) from the HF folder instead.
int run_one(const std::string& dir, const std::string& type, int threads) {
  install_interrupt_handler();
  set_num_threads(threads);
  if (type == "convert") {
    LoadOptions lo;
    lo.tokenizer_path = vocab_path();
    QuantizeOptions o;
    o.type_name = "F32";
    quantize_to_gguf(load_checkpoint(dir + "/model", lo), dir + "/model.gguf", o);
    return 0;
  }
  const Checkpoint ckpt = load_checkpoint(dir + "/model.gguf");
  QuantizeOptions o;
  o.type_name = type;
  o.show_progress = false;
  const std::string out = dir + "/out-" + type + ".gguf";
  const QuantizeReport r = quantize_to_gguf(ckpt, out, o);
  fs::remove(out);
  std::printf("%llu %llu %.6f %lld\n", static_cast<unsigned long long>(r.input_bytes),
              static_cast<unsigned long long>(r.file_bytes), r.seconds, static_cast<long long>(peak_rss_bytes()));
  return 0;
}

struct Result {
  bool ok = false;
  double input_bytes = 0, output_bytes = 0, seconds = 0, peak_rss = 0;
};

Result spawn_one(const std::string& self, const std::string& dir, const std::string& type, int threads) {
  const std::string out_path = dir + "/child.out";
  std::vector<std::string> args = {self, "--one", dir, type, std::to_string(threads)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  Result r;
  const int rc = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return r;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  std::ifstream in(out_path);
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
         static_cast<bool>(in >> r.input_bytes >> r.output_bytes >> r.seconds >> r.peak_rss);
  fs::remove(out_path);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 5 && std::string(argv[1]) == "--one") return run_one(argv[2], argv[3], std::atoi(argv[4]));
    const std::string dir = argc > 1 ? argv[1] : "/tmp/lmpack-quantize-bench";
    if (!fs::exists(vocab_path())) {
      std::fprintf(stderr, "quantize_bench: %s is missing (../shared)\n", vocab_path().c_str());
      return 1;
    }
    fs::create_directories(dir);
    if (!fs::exists(dir + "/model/model.safetensors")) {
      std::printf("generating the random model in %s/model ...\n", dir.c_str());
      std::fflush(stdout);
      RandomModelSpec spec;
      spec.config = llama7b_shaped_config(2);
      spec.dtype = DType::F32;
      spec.seed = 7;
      // In a child, so that this process never starts OpenMP before spawning.
      const pid_t pid = fork();
      if (pid == 0) {
        write_random_model(spec, dir + "/model");
        _exit(0);
      }
      int status = 0;
      waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error(dir, "generating the model failed");
    }
    const std::string self = fs::canonical("/proc/self/exe").string();
    if (!fs::exists(dir + "/model.gguf")) {
      std::printf("converting it to %s/model.gguf (F32) ...\n", dir.c_str());
      std::fflush(stdout);
      if (!spawn_one(self, dir, "convert", 0).ok && !fs::exists(dir + "/model.gguf"))
        throw Error(dir, "converting the model to GGUF failed");
    }
    {  // Warm the page cache so that the first measurement does not also time the disk.
      std::ifstream warm(dir + "/model.gguf", std::ios::binary);
      std::vector<char> buf(1 << 20);  // small: a spawned child inherits our peak RSS
      while (warm.read(buf.data(), static_cast<std::streamsize>(buf.size())) || warm.gcount() > 0) {
      }
    }
    std::printf("quantize_to_gguf throughput, random Llama-7B-layer model (2 layers, vocab 32000, F32)\n");
    std::printf("%-8s %8s %10s %10s %10s %12s %12s\n", "type", "threads", "input GB", "seconds", "GB/s", "output GB",
                "peak RSS MB");
    for (const char* type : {"Q8_0", "Q4_0", "Q4_K_M", "Q2_K"}) {
      for (int threads : {1, 2}) {
        const Result r = spawn_one(self, dir, type, threads);
        if (!r.ok) {
          std::printf("%-8s %8d   failed\n", type, threads);
          continue;
        }
        std::printf("%-8s %8d %10.3f %10.2f %10.3f %12.3f %12.1f\n", type, threads, r.input_bytes / 1e9, r.seconds,
                    r.input_bytes / 1e9 / r.seconds, r.output_bytes / 1e9, r.peak_rss / 1048576.0);
        std::fflush(stdout);
      }
    }
    std::printf("reproduce: ninja -C BUILD quantize_bench && BUILD/quantize_bench %s\n", dir.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quantize_bench: %s\n", e.what());
    return 1;
  }
}
