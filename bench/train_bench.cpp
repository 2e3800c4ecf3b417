// Training throughput: one full step (forward, next-token cross-entropy,
// backward, gradient clip, AdamW) on ts-llama-4.9M's shape (dim 256, FFN
// 768, 6 blocks, 8 heads / 4 KV heads, vocab 512, tied), batch 8 x 256
// tokens, against PyTorch (bench/train_bench_torch.py: the same model and
// step) measured in the same run on the same threads.
//
// Usage: train_bench [THREADS] [STEPS]   (default: all threads, 5 steps)
// Prints tokens/s of each, the ratio, lmpack's step split into its parts,
// and the peak RSS of lmpack's part (PyTorch runs in a child process).
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
#include "kernels/ops.h"
#include "model/checkpoint.h"
#include "train/losses.h"
#include "train/optimizer.h"
#include "train/training_pass.h"

namespace {

using namespace lmpack;

std::string shared_dir() {
  const char* env = std::getenv("LMPACK_SHARED_DIR");
  return env ? env : std::string(LMPACK_SOURCE_DIR) + "/../shared";
}

TrainableModel bench_model() {
  const std::string path = shared_dir() + "/models/ts-llama-4.9M/ts-llama-4.9M.bin";
  try {
    return trainable_from_checkpoint(load_checkpoint(path));
  } catch (const Error& e) {
    std::printf("(%s; using random weights of its shape)\n", e.what());
  }
  ModelConfig c;
  c.dim = 256;
  c.hidden_dim = 768;
  c.n_layers = 6;
  c.n_heads = 8;
  c.n_kv_heads = 4;
  c.head_dim = 32;
  c.vocab_size = 512;
  c.context_length = 256;
  c.tied_embeddings = true;
  TrainableModel m{ParameterLayout(c), {}, std::vector<float>(16), ""};
  rope_inv_freq(m.rope_inv_freq.data(), c.head_dim, c.rope_theta);
  m.values.resize(m.layout.size());
  uint64_t s = 1;
  for (float& v : m.values) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    v = (static_cast<float>(s >> 40) / static_cast<float>(1 << 24) - 0.5f) * 0.05f;
  }
  return m;
}

// "tokens_per_s=X" from the PyTorch script, or a reason it did not run.
double torch_tokens_per_s(const ModelConfig& c, int64_t batch, int64_t seq, int steps, int threads,
                          std::string* why) {
  // Debian's interpreter, whose packages python3-torch installs into (a
  // python3 earlier on PATH, e.g. pyenv's, would not see them).
  const char* env = std::getenv("LMPACK_PYTHON");
  const std::string python = env ? env : std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const std::string cmd = python + " " + std::string(LMPACK_SOURCE_DIR) + "/bench/train_bench_torch.py " +
                          std::to_string(c.dim) + " " + std::to_string(c.hidden_dim) + " " +
                          std::to_string(c.n_layers) + " " + std::to_string(c.n_heads) + " " +
                          std::to_string(c.n_kv_heads) + " " + std::to_string(c.vocab_size) + " " +
                          std::to_string(batch) + " " + std::to_string(seq) + " " + std::to_string(steps) + " " +
                          std::to_string(threads) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *why = "cannot start " + python;
    return 0.0;
  }
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = pclose(p);
  const size_t at = out.find("tokens_per_s=");
  if (status != 0 || at == std::string::npos) {
    *why = python + " bench/train_bench_torch.py failed (Debian: apt-get install python3-torch; LMPACK_PYTHON picks the interpreter): " +
           out.substr(out.size() > 200 ? out.size() - 200 : 0);
    return 0.0;
  }
  const size_t blas = out.find("blas=", at);
  if (blas != std::string::npos) *why = out.substr(blas + 5, out.find('\n', blas) - blas - 5);
  return std::atof(out.c_str() + at + 13);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int threads = set_num_threads(argc > 1 ? std::atoi(argv[1]) : 0);
    const int steps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    const int64_t batch = 8, seq = 256;
    TrainableModel m = bench_model();
    const ModelConfig& c = m.layout.config();
    std::printf("train_bench: one training step, batch %lld x %lld tokens, %lld parameters, %d threads, %d steps\n",
                static_cast<long long>(batch), static_cast<long long>(seq), static_cast<long long>(m.layout.size()),
                threads, steps);
    std::printf("reproduce: %s %d %d   (from the build directory)\n", argv[0], threads, steps);

    TrainingPass pass(m, batch, seq);
    AdamW adam(m.layout, {});
    std::vector<int32_t> tokens(batch * seq), targets(batch * seq);
    std::vector<float> logits(batch * seq * c.vocab_size), grads(m.layout.size());
    uint64_t s = 7;
    double t_forward = 0, t_backward = 0, t_optimizer = 0, total = 0;
    for (int step = 0; step <= steps; ++step) {  // step 0 warms up, untimed
      for (int64_t r = 0; r < batch * seq; ++r) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        tokens[r] = static_cast<int32_t>((s >> 33) % static_cast<uint64_t>(c.vocab_size));
      }
      for (int64_t r = 0; r < batch * seq; ++r) targets[r] = (r + 1) % seq == 0 ? -1 : tokens[r + 1];
      Stopwatch a;
      pass.forward(tokens.data(), logits.data());
      cross_entropy(logits.data(), logits.data(), targets.data(), batch * seq, c.vocab_size);
      const double f = a.seconds();
      Stopwatch b;
      std::fill(grads.begin(), grads.end(), 0.0f);
      pass.backward(logits.data(), grads.data());
      const double bw = b.seconds();
      Stopwatch o;
      clip_gradient_norm(grads.data(), grads.size(), 1.0);
      adam.step(m.values.data(), grads.data(), 1e-3f);
      const double op = o.seconds();
      if (step == 0) continue;
      t_forward += f;
      t_backward += bw;
      t_optimizer += op;
      total += f + bw + op;
    }
    const double ours = static_cast<double>(batch * seq) * steps / total;
    std::printf("\n  %-34s %12s %10s\n", "step", "tokens/s", "s/step");
    std::printf("  %-34s %12.0f %10.3f\n", "lmpack", ours, total / steps);
    std::printf("    %-32s %23.3f\n", "forward + loss", t_forward / steps);
    std::printf("    %-32s %23.3f\n", "backward", t_backward / steps);
    std::printf("    %-32s %23.3f\n", "clip + AdamW", t_optimizer / steps);
    std::printf("  lmpack peak RSS: %.1f MiB (activations %.1f MiB)\n",
                static_cast<double>(peak_rss_bytes()) / (1 << 20),
                static_cast<double>(pass.activation_bytes()) / (1 << 20));
    std::string why;
    const double torch = torch_tokens_per_s(c, batch, seq, steps, threads, &why);
    if (torch > 0.0) {
      std::printf("  %-34s %12.0f %10.3f\n", "PyTorch (python3-torch)", torch, batch * seq / torch);
      std::printf("    (its BLAS: %s)\n", why.c_str());
      std::printf("\n  lmpack / PyTorch: %.2fx tokens/s\n", ours / torch);
    } else {
      std::printf("\n  PyTorch baseline skipped: %s\n", why.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_bench: %s\n", e.what());
    return 1;
  }
}
