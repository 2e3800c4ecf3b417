// End-to-end: `lmpack sweep` on ts-llama-4.9M (issue 13): two methods x (two
// llama.cpp mixes + two size targets), calibrated on stories 200-999 and
// measured on stories 0-39. results.json holds every run with its figures
// and the allocated 3 bpw file beats Q2_K; report.html opens in a real
// browser (Debian's chromium, headless) with no console message, its charts
// have one point per run and its table one row per run, as results.json
// says; a screenshot is kept (build/<preset>/test-artifacts/sweep-report.png).
// Bad options: one line.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli_runner.h"
#include "test_paths.h"

namespace lmpack {
namespace {

namespace fs = std::filesystem;
using testing::calibration_stories_file;
using testing::describe;
using testing::run_cli;
using testing::scratch_dir;
using testing::tok512;
using testing::ts_llama_bin;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string chromium_path() {
  if (const char* env = std::getenv("LMPACK_CHROMIUM"); env != nullptr && *env) return env;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (fs::exists(p)) return p;
  return "";
}

class SweepCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::shared_dir().empty()) return;
    dir_ = new std::string(scratch_dir("sweep", "ts-llama", true) + "/out");
    const std::vector<std::string> args = {
        "sweep", ts_llama_bin(), "--tokenizer", tok512(), "--calib", calibration_stories_file(), "--calib-samples", "16",
        "--eval", testing::tinystories_valid(), "--doc-separator", "<|endoftext|>", "--max-docs", "40", "--eval-ctx",
        "256", "--methods", "rtn,imatrix", "--types", "Q2_K,Q4_K_M", "--bpw-range", "3:4:1", "--sensitivity-tokens",
        "1024", "-o", *dir_};
    result_ = new testing::CliResult(run_cli(args));
    described_ = new std::string(describe(args, *result_));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete result_;
    delete described_;
    dir_ = nullptr;
    result_ = nullptr;
    described_ = nullptr;
  }
  static nlohmann::json results() {
    std::ifstream in(*dir_ + "/results.json");
    return nlohmann::json::parse(in);
  }
  static std::string* dir_;
  static testing::CliResult* result_;
  static std::string* described_;
};
std::string* SweepCli::dir_ = nullptr;
testing::CliResult* SweepCli::result_ = nullptr;
std::string* SweepCli::described_ = nullptr;

TEST_F(SweepCli, ResultsHoldEveryRunAndTheTargetBeatsTheMix) {
  LMPACK_REQUIRE_SHARED();
  ASSERT_EQ(result_->exit_code, 0) << *described_;
  for (const char* s : {"imatrix 3 bpw", "rtn Q4_K_M", "claim: 4-bit keeps", "report.html"})
    EXPECT_NE(result_->out.find(s), std::string::npos) << s << "\n" << result_->out;
  const nlohmann::json j = results();
  ASSERT_EQ(j["runs"].size(), 8u);
  EXPECT_EQ(j["model"]["parameters"].get<int64_t>(), 4852992);
  EXPECT_GT(j["eval"]["tokens"].get<int64_t>(), 5000);
  std::map<std::string, nlohmann::json> by;
  for (const auto& run : j["runs"]) {
    by[run["name"].get<std::string>()] = run;
    EXPECT_GT(run["kl_mean"].get<double>(), 0.0);
    EXPECT_GT(run["top1"].get<double>(), 0.8);
    EXPECT_EQ(run["layers"].size(), 42u) << run["name"];
    if (run["kind"] == "target") {
      const double target = std::stod(run["setting"].get<std::string>());
      EXPECT_LE(run["bits_per_weight"].get<double>(), target);
      EXPECT_GE(run["bits_per_weight"].get<double>(), 0.99 * target);
      EXPECT_FALSE(run["predicted_kl"].is_null());
    }
  }
  const double kl3 = by.at("imatrix 3 bpw")["kl_mean"].get<double>(), klq2 = by.at("imatrix Q2_K")["kl_mean"].get<double>();
  std::printf("[sweep] imatrix: 3 bpw KL %.5f vs Q2_K (%.3f bpw) KL %.5f\n", kl3,
              by.at("imatrix Q2_K")["bits_per_weight"].get<double>(), klq2);
  EXPECT_LT(kl3, klq2);
  EXPECT_LT(by.at("imatrix Q4_K_M")["kl_mean"].get<double>(), by.at("rtn Q4_K_M")["kl_mean"].get<double>());
  // Caches and the imatrix stay; the models and base logits do not.
  for (const char* f : {"imatrix.gguf", "sensitivity-rtn.json", "sensitivity-imatrix.json", "report.html"})
    EXPECT_TRUE(fs::exists(*dir_ + "/" + f)) << f;
  EXPECT_FALSE(fs::exists(*dir_ + "/models"));
  EXPECT_FALSE(fs::exists(*dir_ + "/base.logits"));
}

TEST_F(SweepCli, ReportRendersInChromiumAsResultsJsonSays) {
  LMPACK_REQUIRE_SHARED();
  ASSERT_EQ(result_->exit_code, 0) << *described_;
  const std::string browser = chromium_path();
  if (browser.empty())
    GTEST_SKIP() << "no chromium (apt-get install chromium, or set LMPACK_CHROMIUM): report.html not rendered";
  const std::string report = fs::absolute(*dir_ + "/report.html").string();
  const std::string profile = scratch_dir("sweep", "chromium-profile", true);
  const std::vector<std::string> common = {browser, "--headless=new", "--no-sandbox", "--disable-gpu",
                                           "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + profile,
                                           "--enable-logging=stderr", "--v=0"};
  std::vector<std::string> dump = common;
  dump.insert(dump.end(), {"--dump-dom", "file://" + report});
  const testing::CliResult d = testing::run_program(dump);
  ASSERT_EQ(d.exit_code, 0) << d.err.substr(0, 3000);
  const std::string& dom = d.out;
  // The script ran to its end, and the page wrote nothing to the console.
  EXPECT_NE(dom.find("data-ready=\"yes\""), std::string::npos) << dom.substr(0, 2000);
  EXPECT_EQ(d.err.find(":CONSOLE("), std::string::npos) << d.err;
  // Each chart: one point per run; the table: one row per run, in results.json's order.
  const nlohmann::json j = results();
  const size_t kl = dom.find("id=\"kl-plot\""), top1 = dom.find("id=\"top1-plot\""), runs = dom.find("id=\"runs\"");
  ASSERT_TRUE(kl != std::string::npos && top1 != std::string::npos && runs != std::string::npos);
  EXPECT_EQ(count(dom.substr(kl, top1 - kl), "class=\"point\""), j["runs"].size());
  EXPECT_EQ(count(dom.substr(top1, runs - top1), "class=\"point\""), j["runs"].size());
  const std::regex row("<tr class=\"run\" data-run=\"([^\"]+)\">");
  std::vector<std::string> names;
  for (auto it = std::sregex_iterator(dom.begin() + static_cast<long>(runs), dom.end(), row); it != std::sregex_iterator(); ++it)
    names.push_back((*it)[1]);
  ASSERT_EQ(names.size(), j["runs"].size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(names[i], j["runs"][i]["name"].get<std::string>());
  // Each run's KL as the table shows it.
  for (const auto& run : j["runs"]) {
    char kl_text[32];
    std::snprintf(kl_text, sizeof kl_text, "%.5f", run["kl_mean"].get<double>());
    EXPECT_NE(dom.find(std::string(">") + kl_text + "<"), std::string::npos) << run["name"];
  }
  // The heat map: a cell per run and layer.
  EXPECT_EQ(count(dom, "class=\"cell\""), 8u * 42u);
  // A screenshot, kept as the test's artifact.
  const std::string shot = *dir_ + "/report.png";
  std::vector<std::string> screenshot = common;
  screenshot.insert(screenshot.end(), {"--window-size=1280,2400", "--screenshot=" + shot, "file://" + report});
  const testing::CliResult s = testing::run_program(screenshot);
  ASSERT_EQ(s.exit_code, 0) << s.err.substr(0, 3000);
  ASSERT_TRUE(fs::exists(shot));
  EXPECT_GT(fs::file_size(shot), 20000u);
  std::ifstream png(shot, std::ios::binary);
  char magic[8] = {};
  png.read(magic, 8);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  // The artifact: beside the build's lmpack, where a CI run can pick it up.
  const fs::path artifacts = fs::path(testing::lmpack_binary()).parent_path() / "test-artifacts";
  fs::create_directories(artifacts);
  fs::copy_file(shot, artifacts / "sweep-report.png", fs::copy_options::overwrite_existing);
  fs::copy_file(report, artifacts / "sweep-report.html", fs::copy_options::overwrite_existing);
  std::printf("[sweep] report screenshot: %s\n", (artifacts / "sweep-report.png").c_str());
}

// stories260K's smallest file is about 7 bpw (rows of 64 and 172 fit no
// k-quant block): a 1 bpw target cannot be met, the sweep notes it and still
// runs the 8 bpw one.
TEST(SweepCliSkips, ATargetBelowTheSmallestModelIsNotedAndTheOthersRun) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("sweep", "skips", true) + "/out";
  const std::vector<std::string> args = {
      "sweep", testing::stories260k_gguf(), "--calib", calibration_stories_file(), "--calib-samples", "4", "--eval",
      testing::tinystories_valid(), "--doc-separator", "<|endoftext|>", "--max-docs", "5", "--eval-ctx", "128",
      "--methods", "rtn", "--types", "none", "--bpw-range", "1:8:7", "--sensitivity-tokens", "256", "-o", dir};
  const testing::CliResult r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << describe(args, r);
  EXPECT_NE(r.out.find("rtn 1 bpw"), std::string::npos) << describe(args, r);
  EXPECT_NE(r.out.find("skipped: 1 bpw is below the smallest model"), std::string::npos) << describe(args, r);
  std::ifstream in(dir + "/results.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  ASSERT_EQ(j.at("runs").size(), 1u);
  EXPECT_EQ(j.at("runs")[0].at("name"), "rtn 8 bpw");
  EXPECT_LE(j.at("runs")[0].at("bits_per_weight").get<double>(), 8.0);
  ASSERT_EQ(j.at("skipped").size(), 1u);
  EXPECT_EQ(j.at("skipped")[0].at("name"), "rtn 1 bpw");
  const std::string reason = j.at("skipped")[0].at("reason");
  EXPECT_NE(reason.find("below the smallest model the candidate types make"), std::string::npos) << reason;
  std::ifstream html(dir + "/report.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_EQ(count(page, "<tr class=\"run\""), 1u);
  EXPECT_NE(page.find("<li>rtn 1 bpw: 1 bpw is below the smallest model"), std::string::npos);
}

TEST(SweepCliErrors, BadOptionsFailWithOneLine) {
  LMPACK_REQUIRE_SHARED();
  const std::string dir = scratch_dir("sweep", "errors", true);
  const std::string calib = calibration_stories_file(), text = testing::tinystories_valid();
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> cases = {
      {{"--calib", calib, "--eval", text, "--methods", "rtn,awq", "-o", dir + "/o"}, {"--methods", "awq"}},
      {{"--calib", calib, "--eval", text, "--types", "q4_K", "-o", dir + "/o"}, {"--types", "q4_K"}},
      {{"--calib", calib, "--eval", text, "--bpw-range", "5:3", "-o", dir + "/o"}, {"--bpw-range", "empty"}},
      {{"--calib", calib, "--eval", dir + "/missing.txt", "-o", dir + "/o"}, {"--eval", "missing.txt"}},
      {{"--calib", calib, "--eval", text, "-o", dir + "/o.gguf"}, {"-o", "folder"}},
      {{"--eval", text, "-o", dir + "/o"}, {"--calib"}},
      {{"--calib", calib, "--eval", text, "--max-docs", "5", "-o", dir + "/o"}, {"--max-docs"}},
      {{"--calib", calib, "--eval", text, "--types", "none", "-o", dir + "/o"}, {"--types", "nothing to run"}},
  };
  for (const auto& [extra, mentions] : cases) {
    std::vector<std::string> args = {"sweep", ts_llama_bin(), "--tokenizer", tok512()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << describe(args, r);
    EXPECT_EQ(r.err_lines(), 1) << describe(args, r);
    for (const std::string& m : mentions) EXPECT_NE(r.err.find(m), std::string::npos) << m << "\n" << describe(args, r);
    EXPECT_FALSE(fs::exists(dir + "/o")) << describe(args, r);
  }
}

}  // namespace
}  // namespace lmpack
