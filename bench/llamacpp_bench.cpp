// lmpack against llama.cpp's own tools on the same files and threads (issue
// 14): `lmpack quantize` against llama-quantize at Q2_K, Q3_K_M, Q4_K_M,
// Q5_K_M, Q6_K, Q4_0 and Q8_0, and `lmpack eval` against llama-perplexity on
// the F16 and BF16 files and on the Q4_K_M and Q8_0 files made from the F16
// one. Each command runs as a child process, timed by wall clock, with its
// peak RSS from wait4(); the ratio is llama.cpp's time over lmpack's (above 1:
// lmpack is faster). The quantized files' tensor bytes are compared too.
//
// Input: a random model of Llama-7B shapes (hidden 4096, FFN 11008, 32 heads,
// vocab 32000; --layers blocks, default 6: 2.95 GB in F16), made with
// `lmpack random-model --dtype f16` and `lmpack convert --type f16|bf16` with
// llama.cpp's Llama SPM test vocabulary from ../shared. Eval text: wikitext-2
// test from ../shared, 2 windows of 512 tokens, the second half of each scored
// (`llama-perplexity -c 512 -b 512 --chunks 2`; `lmpack eval --ctx 512
// --chunks 2 --score-second-half`). Before each timed pair the input file is
// read once, so that both tools find it in the page cache, and the page
// cache's dirty pages are written back (sync) before each command starts.
//
// llama.cpp's tools: scripts/install_llamacpp_check.sh --with-tools puts them
// in $LMPACK_LLAMACPP_DIR/bin (default <repo>/build-llamacpp/bin).
//
// Usage: llamacpp_bench [DIR] [--layers N] [--threads T] [--skip-quantize] [--skip-eval]
//   DIR keeps the generated files between runs (default /tmp/lmpack-llamacpp-bench).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "bench_child.h"
#include "io/gguf.h"

namespace {

namespace fs = std::filesystem;

struct Run {
  bool ok = false;
  double seconds = 0, peak_rss_mb = 0;
  std::string output;  // stdout and stderr together
};

// Runs argv with stdout+stderr into DIR/run.log; wall time and peak RSS.
Run run(const std::vector<std::string>& argv, const std::string& dir,
        const std::map<std::string, std::string>& env = {}) {
  Run r;
  const std::string log = dir + "/run.log";
  std::fflush(nullptr);  // else the child's freopen writes the parent's buffered lines into the log
  // No dirty pages of an earlier command (the other tool's output file) may
  // be written back to disk during this one, on the same two threads.
  sync();
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    if (!freopen(log.c_str(), "w", stdout) || dup2(fileno(stdout), 2) < 0) _exit(127);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) return r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  std::ifstream in(log);
  r.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!r.ok) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    std::fprintf(stderr, "llamacpp_bench: failed: %s\n%s\n", cmd.c_str(),
                 r.output.substr(r.output.size() > 2000 ? r.output.size() - 2000 : 0).c_str());
  }
  return r;
}

// Reads a file once, so that the next command finds it in the page cache.
void warm(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buf(1 << 24);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
  }
}

// Tensors of two GGUF files with the same name, type and bytes.
std::string compare_tensors(const std::string& a_path, const std::string& b_path) {
  const lmpack::GgufFile a = lmpack::read_gguf(a_path), b = lmpack::read_gguf(b_path);
  std::map<std::string, const lmpack::TensorInfo*> by_name;
  for (const auto& t : b.tensors) by_name[t.name] = &t;
  int same = 0, other_type = 0, differ = 0;
  for (const auto& t : a.tensors) {
    const auto it = by_name.find(t.name);
    if (it == by_name.end()) continue;
    if (it->second->dtype != t.dtype) {
      ++other_type;
    } else if (it->second->nbytes == t.nbytes && std::memcmp(it->second->data, t.data, t.nbytes) == 0) {
      ++same;
    } else {
      ++differ;
    }
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "%d/%zu same%s", same, a.tensors.size(),
                other_type ? (" (" + std::to_string(other_type) + " other type)").c_str() : "");
  return buf;
}

double parse_number_after(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (std::regex_search(text, m, std::regex(pattern + R"(\s*([0-9.eE+-]+))"))) return std::atof(m[1].str().c_str());
  return 0.0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/lmpack-llamacpp-bench";
  int layers = 6, threads = 2;
  bool do_quantize = true, do_eval = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--layers" && i + 1 < argc) layers = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--skip-quantize") do_quantize = false;
    else if (a == "--skip-eval") do_eval = false;
    else if (!a.empty() && a[0] != '-') dir = a;
    else {
      std::fprintf(stderr, "usage: llamacpp_bench [DIR] [--layers N] [--threads T] [--skip-quantize] [--skip-eval]\n");
      return 2;
    }
  }
  try {
    const char* env = std::getenv("LMPACK_LLAMACPP_DIR");
    const std::string llama_dir = (env && *env ? std::string(env) : std::string(LMPACK_SOURCE_DIR) + "/build-llamacpp");
    const std::string bin = llama_dir + "/bin";
    const std::string lmpack = fs::canonical("/proc/self/exe").parent_path().string() + "/lmpack";
    const std::string vocab = lmpack::bench::llama_vocab_path();
    const std::string text = lmpack::bench::shared_dir() + "/data/wikitext-2/wiki.test.raw";
    for (const std::string& need : {bin + "/llama-quantize", bin + "/llama-perplexity", lmpack, vocab, text})
      if (!fs::exists(need)) {
        std::fprintf(stderr, "llamacpp_bench: %s is missing (llama.cpp's tools: scripts/install_llamacpp_check.sh "
                     "--with-tools; vocabulary and text: ../shared)\n", need.c_str());
        return 1;
      }
    const std::map<std::string, std::string> llama_env = {{"LD_LIBRARY_PATH", bin}};
    fs::create_directories(dir);
    const std::string t = std::to_string(threads);
    const std::string f16 = dir + "/f16.gguf", bf16 = dir + "/bf16.gguf";
    const std::string tag = std::to_string(layers) + "-layer";
    if (!fs::exists(dir + "/" + tag + ".done")) {
      std::printf("generating the random %d-block Llama-7B-shaped model in %s ...\n", layers, dir.c_str());
      std::fflush(stdout);
      fs::remove_all(dir + "/hf");
      const std::vector<std::vector<std::string>> steps = {
          {lmpack, "random-model", dir + "/hf", "--dim", "4096", "--ffn", "11008", "--layers", std::to_string(layers),
           "--heads", "32", "--dtype", "f16", "--seed", "7"},
          {lmpack, "convert", dir + "/hf", f16, "--type", "f16", "--tokenizer", vocab},
          {lmpack, "convert", dir + "/hf", bf16, "--type", "bf16", "--tokenizer", vocab}};
      for (const auto& s : steps)
        if (!run(s, dir).ok) return 1;
      fs::remove_all(dir + "/hf");
      std::ofstream(dir + "/" + tag + ".done") << "ok\n";
    }
    std::printf("llama.cpp: %s; lmpack: %s; %d threads; input %s (%.2f GB)\n", bin.c_str(), lmpack.c_str(), threads,
                f16.c_str(), static_cast<double>(fs::file_size(f16)) / 1e9);

    if (do_quantize) {
      std::printf("\nquantize F16 -> TYPE: llama-quantize IN OUT TYPE %d  vs  lmpack quantize IN OUT TYPE -t %d\n",
                  threads, threads);
      std::printf("%-8s %10s %10s %8s %12s %12s  %s\n", "type", "llama s", "lmpack s", "ratio", "llama RSS MB",
                  "lmpack RSS MB", "tensor bytes");
      for (const char* type : {"Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "Q4_0", "Q8_0"}) {
        const std::string ours = dir + "/lmpack-" + type + ".gguf", theirs = dir + "/llama-" + type + ".gguf";
        warm(f16);
        const Run l = run({bin + "/llama-quantize", f16, theirs, type, t}, dir, llama_env);
        fs::remove(ours);  // as theirs is: neither side pays for dropping an earlier run's file
        warm(f16);
        const Run m = run({lmpack, "quantize", f16, ours, type, "-t", t}, dir);
        if (!l.ok || !m.ok) {
          std::printf("%-8s failed\n", type);
          continue;
        }
        std::printf("%-8s %10.2f %10.2f %8.2f %12.0f %12.0f  %s\n", type, l.seconds, m.seconds, l.seconds / m.seconds,
                    l.peak_rss_mb, m.peak_rss_mb, compare_tensors(ours, theirs).c_str());
        std::fflush(stdout);
        fs::remove(theirs);
        if (std::string(type) != "Q4_K_M" && std::string(type) != "Q8_0") fs::remove(ours);
      }
    }

    if (do_eval) {
      std::printf("\neval: llama-perplexity -m FILE -f wiki.test.raw -c 512 -b 512 --chunks 2 -t %d  vs\n"
                  "      lmpack eval FILE --text wiki.test.raw --ctx 512 --chunks 2 --score-second-half -t %d\n",
                  threads, threads);
      std::printf("%-8s %10s %10s %8s %12s %12s %12s %12s\n", "file", "llama s", "lmpack s", "ratio", "llama RSS MB",
                  "lmpack RSS MB", "llama ppl", "lmpack ppl");
      const std::vector<std::pair<std::string, std::string>> files = {
          {"F16", f16}, {"BF16", bf16}, {"Q4_K_M", dir + "/lmpack-Q4_K_M.gguf"}, {"Q8_0", dir + "/lmpack-Q8_0.gguf"}};
      for (const auto& [name, path] : files) {
        if (!fs::exists(path)) {
          if (!run({lmpack, "quantize", f16, path, name, "-t", t}, dir).ok) return 1;
        }
        warm(path);
        const Run l = run({bin + "/llama-perplexity", "-m", path, "-f", text, "-c", "512", "-b", "512", "--chunks", "2",
                           "-t", t}, dir, llama_env);
        warm(path);
        const Run m = run({lmpack, "eval", path, "--text", text, "--ctx", "512", "--chunks", "2",
                           "--score-second-half", "-t", t}, dir);
        if (!l.ok || !m.ok) {
          std::printf("%-8s failed\n", name.c_str());
          continue;
        }
        std::printf("%-8s %10.2f %10.2f %8.2f %12.0f %12.0f %12.2f %12.2f\n", name.c_str(), l.seconds, m.seconds,
                    l.seconds / m.seconds, l.peak_rss_mb, m.peak_rss_mb,
                    parse_number_after(l.output, "Final estimate: PPL ="), parse_number_after(m.output, "perplexity"));
        std::fflush(stdout);
      }
    }
    std::printf("\nreproduce: ninja -C BUILD llamacpp_bench lmpack && BUILD/llamacpp_bench %s --layers %d --threads %d\n",
                dir.c_str(), layers, threads);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llamacpp_bench: %s\n", e.what());
    return 1;
  }
}
