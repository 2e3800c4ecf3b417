// Forward-pass throughput: the fast forward (whole-sequence GEMMs, all
// threads, KV cache) against the reference forward (one token at a time,
// plain loops) measured in the same run, on stories260K (from ../shared) and
// on a random model shaped like two Llama-7B layers (hidden 4096, FFN 11008,
// 32 heads, vocab 32000) written to a temporary folder.
//
// Usage: forward_bench [THREADS]   (or LMPACK_THREADS=N; default: all)
// Prints one table row per (model, forward, phase) with tokens/s and the
// ratio against the reference, then the peak RSS and the command line.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/resource_usage.h"
#include "core/stopwatch.h"
#include "model/checkpoint.h"
#include "model/random_model.h"
#include "runtime/forward.h"
#include "runtime/weights.h"

namespace {

namespace fs = std::filesystem;
using namespace lmpack;

struct Phase {
  double prompt_tps = 0.0;  // prompt tokens per second, one forward() call
  double gen_tps = 0.0;     // single-token steps per second with the KV cache
};

// Deterministic pseudo-text: ids in [3, vocab).
std::vector<int32_t> bench_tokens(int64_t n, int64_t vocab) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  uint64_t s = 12345;
  for (auto& x : t) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<int32_t>(3 + (s >> 33) % static_cast<uint64_t>(vocab - 3));
  }
  return t;
}

// One prompt forward of `prompt` tokens (best of `reps`), then `steps`
// single-token steps continuing from it.
Phase measure(ForwardPass& fwd, int64_t prompt, int64_t steps, int reps) {
  const int64_t vocab = fwd.config().vocab_size;
  std::vector<int32_t> tokens = bench_tokens(prompt + steps, vocab);
  std::vector<float> logits(static_cast<size_t>(prompt * vocab));
  Phase p;
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    fwd.reset();
    Stopwatch sw;
    fwd.forward(tokens.data(), prompt, logits.data());
    best = std::min(best, sw.seconds());
  }
  p.prompt_tps = static_cast<double>(prompt) / best;
  Stopwatch sw;
  for (int64_t i = 0; i < steps; ++i) fwd.forward(&tokens[static_cast<size_t>(prompt + i)], 1, logits.data(), true);
  p.gen_tps = static_cast<double>(steps) / sw.seconds();
  return p;
}

struct Sizes {
  int64_t fast_prompt, fast_steps, ref_prompt, ref_steps;
  int reps;
};

void bench_model(const std::string& label, const Checkpoint& ckpt, const Sizes& s) {
  Stopwatch load;
  std::shared_ptr<const ModelWeights> w = build_weights(ckpt);
  const double load_s = load.seconds();
  const int64_t ctx = std::max(s.fast_prompt + s.fast_steps, s.ref_prompt + s.ref_steps);
  auto fast = make_fast_forward(w, ctx);
  auto ref = make_reference_forward(w, ctx);
  Phase f = measure(*fast, s.fast_prompt, s.fast_steps, s.reps);
  Phase r = measure(*ref, s.ref_prompt, s.ref_steps, 1);
  std::printf("\n%s  (%lld parameters, weights ready in %.2f s)\n", label.c_str(),
              static_cast<long long>(ckpt.parameter_count()), load_s);
  std::printf("  %-10s %-26s %14s %10s\n", "forward", "phase", "tokens/s", "vs ref");
  auto row = [](const char* fwd, std::string phase, double tps, double base) {
    std::printf("  %-10s %-26s %14.1f %9.1fx\n", fwd, phase.c_str(), tps, tps / base);
  };
  row("reference", cat("prompt (", s.ref_prompt, " tokens)"), r.prompt_tps, r.prompt_tps);
  row("fast", cat("prompt (", s.fast_prompt, " tokens, 1 call)"), f.prompt_tps, r.prompt_tps);
  row("reference", cat("generation (", s.ref_steps, " steps)"), r.gen_tps, r.gen_tps);
  row("fast", cat("generation (", s.fast_steps, " steps)"), f.gen_tps, r.gen_tps);
  std::printf("  peak RSS so far: %.1f MiB\n", static_cast<double>(peak_rss_bytes()) / (1 << 20));
  std::fflush(stdout);
}

std::string shared_dir() {
  if (const char* env = std::getenv("LMPACK_SHARED_DIR"); env && *env) return env;
  return std::string(LMPACK_SOURCE_DIR) + "/../shared";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    int threads = 0;
    if (argc > 1) threads = std::atoi(argv[1]);
    else if (const char* env = std::getenv("LMPACK_THREADS"); env && *env) threads = std::atoi(env);
    set_num_threads(threads);
    std::printf("forward_bench: fast forward vs reference forward, %d threads (reference: 1)\n", num_threads());
    std::printf("reproduce: %s %d   (from the build directory; LMPACK_SHARED_DIR overrides ../shared)\n", argv[0],
                num_threads());

    const std::string stories = shared_dir() + "/models/stories260K/stories260K.bin";
    if (fs::exists(stories)) {
      Checkpoint ckpt = load_checkpoint(stories);
      bench_model("stories260K.bin (dim 64, 5 layers, vocab 512)", ckpt, {256, 128, 256, 128, 5});
    } else {
      std::printf("\nstories260K: skipped, %s not found (see ../shared/DATA.md)\n", stories.c_str());
    }

    const std::string dir = (fs::temp_directory_path() / ("lmpack-bench-7b-" + std::to_string(::getpid()))).string();
    RandomModelSpec spec;
    spec.config = llama7b_shaped_config(2);
    Stopwatch wsw;
    write_random_model(spec, dir);
    std::printf("\n(wrote the random 7B-layer model to %s in %.1f s)\n", dir.c_str(), wsw.seconds());
    try {
      Checkpoint ckpt = load_checkpoint(dir);
      bench_model("random Llama-7B-shaped, 2 layers (dim 4096, FFN 11008, 32 heads, vocab 32000)", ckpt,
                  {128, 16, 2, 2, 2});
    } catch (...) {
      fs::remove_all(dir);
      throw;
    }
    fs::remove_all(dir);
    std::printf("\npeak RSS: %.1f MiB\n", static_cast<double>(peak_rss_bytes()) / (1 << 20));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "forward_bench: %s\n", e.what());
    return 1;
  }
}
