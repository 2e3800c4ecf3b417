// Quantized models run in place against the F32 model, in the same run: a
// random model shaped like two Llama-7B layers (hidden 4096, FFN 11008, 32
// heads, vocab 32000) is written once, converted to GGUF F32, Q8_0, Q4_K
// and Q4_0 (every 2-D weight that type, token embedding and output
// included) and to llama.cpp's Q4_K_M mix with quantize_to_gguf, and each
// file is then loaded and run in its own child process (so that peak RSS
// is that model's alone): a 128-token prompt in one call, then single-token
// generation steps.
//
// Usage: quant_forward_bench [--dir DIR] [--threads N] [--steps N] [--reps N]
//   DIR keeps the generated files between runs (default: a fresh temporary
//   folder, deleted at the end). Prints one row per model with prompt and
//   generation tokens/s, their ratios to F32, file size, peak RSS and the
//   bytes of decoded weights ModelWeights holds (0: everything in place).
//   Needs ../shared (the Llama-2 vocabulary for the GGUF files;
//   LMPACK_SHARED_DIR overrides).
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
#include "pipeline/gguf_quantize.h"
#include "runtime/forward.h"
#include "runtime/weights.h"
#include "tokenizer/vocab_readers.h"

namespace {

namespace fs = std::filesystem;
using namespace lmpack;

constexpr int64_t kPrompt = 128;

struct Result {
  double load_s = 0, prompt_tps = 0, gen_tps = 0;
  long long peak_rss = 0, owned = 0;
};

std::vector<int32_t> bench_tokens(int64_t n, int64_t vocab) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  uint64_t s = 12345;
  for (auto& x : t) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<int32_t>(3 + (s >> 33) % static_cast<uint64_t>(vocab - 3));
  }
  return t;
}

// The child: one model, one line "RESULT load_s prompt_tps gen_tps peak_rss owned".
int run_child(const std::string& path, int64_t steps) {
  Stopwatch load;
  Checkpoint ckpt = load_checkpoint(path);
  std::shared_ptr<const ModelWeights> w = build_weights(ckpt);
  const double load_s = load.seconds();
  auto fwd = make_fast_forward(w, kPrompt + steps);
  const int64_t vocab = w->config.vocab_size;
  const std::vector<int32_t> tokens = bench_tokens(kPrompt + steps, vocab);
  std::vector<float> logits(static_cast<size_t>(kPrompt * vocab));
  fwd->forward(tokens.data(), kPrompt, logits.data());  // warm-up: pages the weights in
  fwd->reset();
  Stopwatch prompt;
  fwd->forward(tokens.data(), kPrompt, logits.data());
  const double prompt_s = prompt.seconds();
  Stopwatch gen;
  for (int64_t i = 0; i < steps; ++i) fwd->forward(&tokens[static_cast<size_t>(kPrompt + i)], 1, logits.data(), true);
  const double gen_s = gen.seconds();
  std::printf("RESULT %.3f %.3f %.3f %lld %lld\n", load_s, kPrompt / prompt_s, steps / gen_s,
              static_cast<long long>(peak_rss_bytes()), static_cast<long long>(w->owned_bytes()));
  return 0;
}

Result run_in_child(const std::string& self, const std::string& path, int threads, int64_t steps) {
  const std::string cmd = cat("'", self, "' --child '", path, "' --threads ", threads, " --steps ", steps);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) throw Error(path, "cannot start the child process");
  Result r;
  char line[512];
  bool ok = false;
  while (std::fgets(line, sizeof line, p) != nullptr)
    if (std::sscanf(line, "RESULT %lf %lf %lf %lld %lld", &r.load_s, &r.prompt_tps, &r.gen_tps, &r.peak_rss,
                    &r.owned) == 5)
      ok = true;
  if (pclose(p) != 0 || !ok) throw Error(path, "the child process failed");
  return r;
}

double mib(double bytes) { return bytes / (1 << 20); }

std::string shared_dir() {
  if (const char* env = std::getenv("LMPACK_SHARED_DIR"); env && *env) return env;
  return std::string(LMPACK_SOURCE_DIR) + "/../shared";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string dir, child;
    int threads = 0;
    int64_t steps = 16;
    int reps = 3;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw Error(a, "needs a value");
        return argv[++i];
      };
      if (a == "--dir") dir = value();
      else if (a == "--threads") threads = std::atoi(value().c_str());
      else if (a == "--steps") steps = std::atoll(value().c_str());
      else if (a == "--reps") reps = std::max(1, std::atoi(value().c_str()));
      else if (a == "--child") child = value();
      else throw Error(a, "unknown option (valid: --dir DIR, --threads N, --steps N, --reps N)");
    }
    set_num_threads(threads);
    if (!child.empty()) return run_child(child, steps);

    const bool temporary = dir.empty();
    if (temporary) dir = (fs::temp_directory_path() / cat("lmpack-qbench-", ::getpid())).string();
    fs::create_directories(dir);
    std::printf("quant_forward_bench: quantized GGUF models run in place vs F32, %d threads\n", num_threads());
    std::printf("reproduce: %s --threads %d --steps %lld --reps %d --dir DIR   (from the build directory)\n",
                argv[0], num_threads(), static_cast<long long>(steps), reps);

    const std::string hf = dir + "/random-7b-2l";
    if (!fs::exists(hf + "/model.safetensors")) {
      RandomModelSpec spec;
      spec.config = llama7b_shaped_config(2);
      Stopwatch sw;
      write_random_model(spec, hf);
      std::printf("(wrote the random Llama-7B-shaped 2-layer model to %s in %.1f s)\n", hf.c_str(), sw.seconds());
    }
    // Tensor types (every matrix that type), and llama.cpp's Q4_K_M mix.
    const char* kTypes[] = {"f32", "q8_0", "q4_K", "Q4_K_M", "q4_0"};
    std::vector<std::string> files;
    for (const char* type : kTypes) {
      const std::string out = cat(dir, "/random-7b-2l-", type, ".gguf");
      files.push_back(out);
      if (fs::exists(out)) continue;
      Checkpoint input = load_checkpoint(hf);
      // GGUF files carry their tokenizer: the Llama-2 vocabulary (32000
      // tokens, as the model) from ../shared.
      input.vocab = load_vocab(shared_dir() + "/data/llamacpp-vocab-tests/ggml-vocab-llama-spm.gguf");
      QuantizeOptions o;
      o.type_name = type;
      o.pure = std::string(type) != "Q4_K_M";
      o.show_progress = false;
      Stopwatch sw;
      quantize_to_gguf(input, out, o);
      std::printf("(quantized to %s in %.1f s)\n", type, sw.seconds());
    }

    // Rounds over all models, interleaved, best speed of each: the machine
    // may be shared, and a slow spell then hits every model alike.
    std::vector<Result> results(files.size());
    for (int round = 0; round < reps; ++round) {
      for (size_t i = 0; i < files.size(); ++i) {
        const Result r = run_in_child(argv[0], files[i], num_threads(), steps);
        Result& best = results[i];
        best.load_s = round == 0 ? r.load_s : std::min(best.load_s, r.load_s);
        best.prompt_tps = std::max(best.prompt_tps, r.prompt_tps);
        best.gen_tps = std::max(best.gen_tps, r.gen_tps);
        best.peak_rss = std::max(best.peak_rss, r.peak_rss);
        best.owned = std::max(best.owned, r.owned);
      }
    }
    const Result& base = results[0];
    std::printf("\nrandom Llama-7B-shaped, 2 layers (dim 4096, FFN 11008, 32 heads, vocab 32000)\n");
    std::printf("prompt: %lld tokens in one call; generation: %lld single-token steps after it; best of %d\n",
                static_cast<long long>(kPrompt), static_cast<long long>(steps), reps);
    std::printf("  %-6s %10s %10s %12s %7s %10s %7s %10s %10s %9s\n", "type", "file MiB", "load s", "prompt t/s",
                "vs f32", "gen t/s", "vs f32", "RSS MiB", "vs f32", "owned");
    for (size_t i = 0; i < files.size(); ++i) {
      const Result& r = results[i];
      std::printf("  %-6s %10.1f %10.2f %12.1f %6.2fx %10.2f %6.2fx %10.1f %9.2fx %9lld\n", kTypes[i],
                  mib(static_cast<double>(fs::file_size(files[i]))), r.load_s, r.prompt_tps,
                  r.prompt_tps / base.prompt_tps, r.gen_tps, r.gen_tps / base.gen_tps, mib(r.peak_rss),
                  static_cast<double>(r.peak_rss) / static_cast<double>(base.peak_rss), r.owned);
    }
    std::fflush(stdout);
    if (temporary) fs::remove_all(dir);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quant_forward_bench: %s\n", e.what());
    return 1;
  }
}
