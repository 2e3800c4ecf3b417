// Activation memory of training at a real LLM's width: one forward +
// cross-entropy + backward of a random Llama-7B-shaped model (hidden 4096,
// FFN 11008, 32 heads; vocabulary 512 so that the head stays small) with
// every block's activations kept, against the same step under the tightest
// activation bound (every block's input and one block's activations; the
// others recomputed in the backward, train/training_pass.h). Each mode runs
// in a child process of its own, so that each peak RSS is its own; the
// parent prints both, the ratios, and whether the gradients are the same bits.
//
// Usage: train_memory_bench [LAYERS] [BATCH] [SEQ] [THREADS]
//        (default 4 blocks, 2 x 256 tokens, all threads)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench_child.h"
#include "core/hash.h"
#include "core/parallel.h"
#include "core/resource_usage.h"
#include "core/stopwatch.h"
#include "model/random_model.h"
#include "train/losses.h"
#include "train/init.h"
#include "train/parameters.h"
#include "train/training_pass.h"

namespace {

using namespace lmpack;

ModelConfig bench_config(int64_t layers, int64_t seq) {
  ModelConfig c = llama7b_shaped_config(layers);
  c.vocab_size = 512;
  c.context_length = std::max<int64_t>(seq, 256);
  return c;
}

// One step in this process; prints key=value lines.
int child(const std::string& mode, int64_t layers, int64_t batch, int64_t seq) {
  const ModelConfig c = bench_config(layers, seq);
  TrainableModel m = init_trainable(c, 11);  // as `lmpack train --config` starts
  const int64_t rows = batch * seq;
  std::vector<float> grads(m.layout.size(), 0.0f), logits(static_cast<size_t>(rows * c.vocab_size));
  std::vector<int32_t> tokens(static_cast<size_t>(rows)), targets(static_cast<size_t>(rows));
  uint64_t s = 11;
  for (int64_t r = 0; r < rows; ++r) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    tokens[r] = static_cast<int32_t>((s >> 33) % static_cast<uint64_t>(c.vocab_size));
  }
  for (int64_t r = 0; r < rows; ++r) targets[r] = (r + 1) % seq == 0 ? -1 : tokens[r + 1];
  const int64_t before = peak_rss_bytes();  // the model, its gradients, the batch

  const size_t budget = mode == "bounded" ? TrainingPass::activation_bytes_for(c, batch, seq, false) : 0;
  TrainingPass pass(m, batch, seq, TrainKernels::kFast, budget);
  Stopwatch clock;
  pass.forward(tokens.data(), logits.data());
  cross_entropy(logits.data(), logits.data(), targets.data(), rows, c.vocab_size);
  pass.backward(logits.data(), grads.data());
  const double seconds = clock.seconds();
  std::printf("seconds=%.3f\nactivation_bytes=%zu\nrecomputed=%lld\npeak_rss=%lld\nbefore=%lld\ngrads=%016llx\n",
              seconds, pass.activation_bytes(), static_cast<long long>(pass.recomputed_blocks()),
              static_cast<long long>(peak_rss_bytes()), static_cast<long long>(before),
              static_cast<unsigned long long>(fnv1a64(grads.data(), grads.size() * sizeof(float))));
  return 0;
}

std::map<std::string, std::string> parse(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

double mib(const std::string& bytes) { return std::atof(bytes.c_str()) / (1 << 20); }

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::string(argv[1]) == "--child") {
      set_num_threads(std::atoi(argv[6]));
      return child(argv[2], std::atoll(argv[3]), std::atoll(argv[4]), std::atoll(argv[5]));
    }
    const int64_t layers = argc > 1 ? std::atoll(argv[1]) : 4;
    const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 2;
    const int64_t seq = argc > 3 ? std::atoll(argv[3]) : 256;
    const int threads = argc > 4 ? std::atoi(argv[4]) : 0;
    const ModelConfig c = bench_config(layers, seq);
    std::printf("train_memory_bench: one forward + backward, %lld blocks of hidden %lld, FFN %lld, %lld heads, "
                "batch %lld x %lld tokens\n",
                static_cast<long long>(layers), static_cast<long long>(c.dim), static_cast<long long>(c.hidden_dim),
                static_cast<long long>(c.n_heads), static_cast<long long>(batch), static_cast<long long>(seq));
    std::printf("reproduce: %s %lld %lld %lld %d   (from the build directory)\n", argv[0],
                static_cast<long long>(layers), static_cast<long long>(batch), static_cast<long long>(seq), threads);
    const std::string dir = std::filesystem::temp_directory_path().string();
    std::map<std::string, std::map<std::string, std::string>> results;
    for (const char* mode : {"all-kept", "bounded"}) {
      bool ok = false;
      const std::string out = bench::spawn_child(
          argv[0], {"--child", mode, std::to_string(layers), std::to_string(batch), std::to_string(seq),
                    std::to_string(threads)},
          dir, &ok);
      if (!ok) throw Error(mode, "the child run failed:\n" + out);
      results[mode] = parse(out);
    }
    auto& a = results["all-kept"];
    auto& b = results["bounded"];
    std::printf("\n  %-10s %12s %12s %14s %10s\n", "mode", "activations", "peak RSS", "RSS over model", "seconds");
    for (const char* mode : {"all-kept", "bounded"}) {
      auto& r = results[mode];
      std::printf("  %-10s %8.0f MiB %8.0f MiB %10.0f MiB %10.2f   (blocks recomputed: %s)\n", mode,
                  mib(r["activation_bytes"]), mib(r["peak_rss"]), mib(r["peak_rss"]) - mib(r["before"]),
                  std::atof(r["seconds"].c_str()), r["recomputed"].c_str());
    }
    std::printf("\n  bounded / all-kept: activations %.2fx, RSS over the model %.2fx, time %.2fx; gradients %s\n",
                mib(b["activation_bytes"]) / mib(a["activation_bytes"]),
                (mib(b["peak_rss"]) - mib(b["before"])) / (mib(a["peak_rss"]) - mib(a["before"])),
                std::atof(b["seconds"].c_str()) / std::atof(a["seconds"].c_str()),
                a["grads"] == b["grads"] ? "the same bits" : "DIFFERENT");
    return a["grads"] == b["grads"] ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_memory_bench: %s\n", e.what());
    return 1;
  }
}
