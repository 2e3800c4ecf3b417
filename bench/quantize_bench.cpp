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
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_child.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/process_memory.h"
#include "core/progress.h"
#include "core/resource_usage.h"
#include "model/checkpoint.h"
#include "model/random_model.h"
#include "pipeline/gguf_quantize.h"

namespace {

namespace fs = std::filesystem;
using namespace lmpack;

// Child: one quantization; prints "input_bytes output_bytes seconds peak_rss".
// TYPE "convert": writes DIR/model.gguf (F32) from the HF folder instead.
int run_one(const std::string& dir, const std::string& type, int threads) {
  install_interrupt_handler();
  keep_freed_memory();  // as the lmpack command does (core/process_memory.h)
  set_num_threads(threads);
  if (type == "convert") {
    LoadOptions lo;
    lo.tokenizer_path = bench::llama_vocab_path();
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
  Result r;
  bool ok = false;
  std::istringstream in(bench::spawn_child(self, {"--one", dir, type, std::to_string(threads)}, dir, &ok));
  r.ok = ok && static_cast<bool>(in >> r.input_bytes >> r.output_bytes >> r.seconds >> r.peak_rss);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 5 && std::string(argv[1]) == "--one") return run_one(argv[2], argv[3], std::atoi(argv[4]));
    const std::string dir = argc > 1 ? argv[1] : "/tmp/lmpack-quantize-bench";
    if (!fs::exists(bench::llama_vocab_path())) {
      std::fprintf(stderr, "quantize_bench: %s is missing (../shared)\n", bench::llama_vocab_path().c_str());
      return 1;
    }
    const std::string self = fs::canonical("/proc/self/exe").string();
    bench::ensure_random_7b_gguf(self, dir, {"--one", dir, "convert", "0"});
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
