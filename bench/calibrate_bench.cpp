// The sequential calibration pipeline at Llama-7B layer shapes: total time and
// peak memory of `lmpack quantize MODEL OUT Q4_K_M --method gptq` on a random
// 2-block model (hidden 4096, FFN 11008, 32 heads, vocab 32000, F32 GGUF
// input, 2.7 GB), with SAMPLES windows of CTX calibration tokens (default
// 64 x 512) from the TinyStories validation text, against the plain RTN
// Q4_K_M of the same model measured in the same run (the baseline). Each run
// is a child process, so each peak RSS is its own. Also printed: the time
// inside the per-layer rounding (GPTQ) versus the rest (block forward passes
// and Hessian accumulation), and the memory the plan predicts: the residual
// stream and the largest stage activation for all tokens, one block in F32,
// and the largest Hessian in double.
//
// Usage: calibrate_bench [DIR] [--samples N] [--ctx N] [--threads N]
//   (DIR keeps the generated model; default /tmp/lmpack-quantize-bench, shared with quantize_bench)
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "bench_child.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/process_memory.h"
#include "core/progress.h"
#include "core/resource_usage.h"
#include "core/stopwatch.h"
#include "eval/calibration.h"
#include "model/checkpoint.h"
#include "pipeline/gguf_quantize.h"
#include "pipeline/sequential_calibration.h"
#include "tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using namespace lmpack;

// Child: prints "seconds peak_rss_bytes rounding_seconds".
int run_one(const std::string& dir, const std::string& mode, int threads, int64_t samples, int64_t ctx) {
  install_interrupt_handler();
  keep_freed_memory();  // as the lmpack command does (core/process_memory.h)
  set_num_threads(threads);
  LoadOptions lo;
  lo.tokenizer_path = bench::llama_vocab_path();
  if (mode == "convert") {
    QuantizeOptions o;
    o.type_name = "F32";
    quantize_to_gguf(load_checkpoint(dir + "/model", lo), dir + "/model.gguf", o);
    return 0;
  }
  Stopwatch clock;
  const Checkpoint ckpt = load_checkpoint(dir + "/model.gguf");
  QuantizeOptions o;
  o.type_name = "Q4_K_M";
  o.show_progress = false;
  const std::string out = dir + "/out-" + mode + ".gguf";
  double rounding = 0.0;
  if (mode == "rtn") {
    quantize_to_gguf(ckpt, out, o);
  } else {
    std::unique_ptr<Tokenizer> tok = make_tokenizer(*ckpt.vocab, ckpt.path);
    CalibrationOptions co;
    co.files = {bench::shared_dir() + "/data/tinystories-valid/tinystories_valid_first1000.txt"};
    co.samples = samples;
    co.ctx = ctx;
    CalibrationRecipe r;
    r.rounding = RoundingMethod::kGptq;
    r.gguf_types = plan_gguf_types(ckpt, o);
    r.show_progress = true;
    SequentialCalibration pipeline(ckpt, calibration_windows(*tok, co), r);
    quantize_to_gguf(ckpt, out, o, &pipeline);
    for (const LayerError& e : pipeline.layer_errors()) {
      rounding += e.seconds;
      std::fprintf(stderr, "  %-26s %5lldx%-6lld rel.error %.4f  %.2f s\n", e.name.c_str(),
                   static_cast<long long>(e.rows), static_cast<long long>(e.cols), e.relative_error, e.seconds);
    }
  }
  fs::remove(out);
  std::printf("%.6f %lld %.6f\n", clock.seconds(), static_cast<long long>(peak_rss_bytes()), rounding);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 7 && std::string(argv[1]) == "--one")
      return run_one(argv[2], argv[3], std::atoi(argv[4]), std::atoll(argv[5]), std::atoll(argv[6]));
    std::string dir = "/tmp/lmpack-quantize-bench";
    int64_t samples = 64, ctx = 512;
    int threads = 2;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--samples" && i + 1 < argc) samples = std::atoll(argv[++i]);
      else if (a == "--ctx" && i + 1 < argc) ctx = std::atoll(argv[++i]);
      else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
      else dir = a;
    }
    if (!fs::exists(bench::llama_vocab_path())) {
      std::fprintf(stderr, "calibrate_bench: %s is missing (../shared)\n", bench::llama_vocab_path().c_str());
      return 1;
    }
    const std::string self = fs::canonical("/proc/self/exe").string();
    bench::ensure_random_7b_gguf(self, dir, {"--one", dir, "convert", "0", "0", "0"});
    const ModelConfig c = llama7b_shaped_config(2);
    const double T = static_cast<double>(samples * ctx);
    const double planned = 4.0 * T * (c.dim + std::max(c.q_dim(), c.hidden_dim)) +
                           4.0 * (4.0 * c.dim * c.dim + 3.0 * c.dim * c.hidden_dim) +
                           8.0 * c.hidden_dim * static_cast<double>(c.hidden_dim);
    std::printf("sequential calibration, random Llama-7B-shaped model (2 blocks, F32 GGUF), Q4_K_M, %lld x %lld "
                "calibration tokens, %d threads\n",
                static_cast<long long>(samples), static_cast<long long>(ctx), threads);
    std::printf("planned working set (activations + one F32 block + largest Hessian): %.0f MiB\n",
                planned / 1048576.0);
    std::printf("%-6s %10s %14s %12s %10s\n", "method", "seconds", "rounding s", "peak RSS MiB", "x RTN time");
    double rtn_seconds = 0.0;
    for (const char* mode : {"rtn", "gptq"}) {
      bool ok = false;
      std::istringstream in(bench::spawn_child(
          self, {"--one", dir, mode, std::to_string(threads), std::to_string(samples), std::to_string(ctx)}, dir, &ok));
      double seconds = 0, rss = 0, rounding = 0;
      if (!ok || !(in >> seconds >> rss >> rounding)) {
        std::printf("%-6s failed\n", mode);
        continue;
      }
      if (std::string(mode) == "rtn") rtn_seconds = seconds;
      std::printf("%-6s %10.1f %14.1f %12.0f %10.1f\n", mode, seconds, rounding, rss / 1048576.0,
                  rtn_seconds > 0 ? seconds / rtn_seconds : 0.0);
      std::fflush(stdout);
    }
    std::printf("reproduce: ninja -C BUILD calibrate_bench && BUILD/calibrate_bench %s --samples %lld --ctx %lld\n",
                dir.c_str(), static_cast<long long>(samples), static_cast<long long>(ctx));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "calibrate_bench: %s\n", e.what());
    return 1;
  }
}
