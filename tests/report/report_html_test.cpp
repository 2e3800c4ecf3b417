// The report layer on sweep results made here (the real sweep and the
// browser check are tests/e2e/sweep_cli_test.cpp): the frontier, the claims'
// verdicts at their thresholds, results.json read back, and report.html's
// elements (one point per run in each chart, one row per run, the heat map's
// cells, escaped names, no reference to anything outside the file).
#include "report/report_html.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "report/sweep_results.h"
#include "report/svg_chart.h"

namespace lmpack {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

SweepRun run(const std::string& method, const std::string& kind, const std::string& setting, double bpw, double kl,
             double ppl, double top1) {
  SweepRun r;
  r.method = method;
  r.kind = kind;
  r.setting = setting;
  r.name = method + " " + (kind == "mix" ? setting : setting + " bpw");
  r.bits_per_weight = bpw;
  r.file_bytes = static_cast<uint64_t>(bpw * 1e6);
  r.tensor_bytes = r.file_bytes - 1000;
  r.kl_mean = kl;
  r.kl_p99 = 10 * kl;
  r.perplexity = ppl;
  r.top1 = top1;
  if (kind == "target") r.predicted_kl = 1.1 * kl;
  r.layers = {{"blk.0.attn_q.weight", "q4_K", 0.05 * kl * 100}, {"blk.0.ffn_down.weight", "q4_K", 0.08 * kl * 100}};
  return r;
}

SweepResults sample() {
  SweepResults r;
  r.model.name = "m<&>";
  r.model.path = "/models/m.bin";
  r.model.architecture = "llama";
  r.model.parameters = 8'000'000;
  r.model.layers = 6;
  r.base_perplexity = 4.0;
  r.eval_tokens = 1000;
  r.runs = {run("rtn", "mix", "Q2_K", 3.05, 0.09, 4.4, 0.85),       run("rtn", "mix", "Q4_K_M", 4.77, 0.010, 4.05, 0.95),
            run("rtn", "target", "3", 3.0, 0.07, 4.3, 0.87),        run("rtn", "target", "4", 4.0, 0.012, 4.06, 0.94),
            run("imatrix", "mix", "Q4_K_M", 4.77, 0.007, 4.03, 0.96), run("imatrix", "target", "4.5", 4.5, 0.006, 4.02, 0.96),
            run("imatrix", "mix", "Q6_K", 6.6, 0.0005, 4.001, 0.99)};
  return r;
}

TEST(SweepResults, FrontierPerMethod) {
  const SweepResults r = sample();
  // rtn: 3.0 (0.07) < 3.05 (0.09: dominated) ; 4.0 (0.012) ; 4.77 (0.010)
  const std::vector<size_t> rtn = pareto_front(r, "rtn");
  ASSERT_EQ(rtn.size(), 3u);
  EXPECT_EQ(r.runs[rtn[0]].name, "rtn 3 bpw");
  EXPECT_EQ(r.runs[rtn[1]].name, "rtn 4 bpw");
  EXPECT_EQ(r.runs[rtn[2]].name, "rtn Q4_K_M");
  EXPECT_EQ(pareto_front(r, "imatrix").size(), 2u);  // 4.5 beats Q4_K_M at a smaller size
  EXPECT_EQ(sweep_methods(r), (std::vector<std::string>{"rtn", "imatrix"}));
}

TEST(SweepResults, ClaimsAtTheirThresholds) {
  SweepResults r = sample();
  std::vector<SweepClaim> c = check_claims(r);
  ASSERT_EQ(c.size(), 5u);
  // Best at <= 4.5 bpw: imatrix 4.5 (KL 0.006), ppl 4.02: kept 4/4.02 = 99.5%.
  EXPECT_EQ(c[0].verdict, "holds");
  EXPECT_NE(c[0].evidence.find("imatrix 4.5 bpw"), std::string::npos) << c[0].evidence;
  // 10x vs F32: <= 3.2 bpw: rtn 3 bpw is the best there.
  EXPECT_EQ(c[1].verdict, "reached");
  EXPECT_NE(c[1].evidence.find("rtn 3 bpw"), std::string::npos);
  for (size_t i = 2; i < 5; ++i) {  // 1.6 and 0.8 bpw: nothing that small
    EXPECT_EQ(c[i].verdict, "not reached") << c[i].claim;
    EXPECT_NE(c[i].evidence.find("3.000"), std::string::npos) << c[i].evidence;
  }
  // Below 95%: the claim does not hold.
  for (SweepRun& x : r.runs)
    if (x.bits_per_weight <= 4.5) x.perplexity = 4.5;
  EXPECT_EQ(check_claims(r)[0].verdict, "does not hold");
  r.runs.clear();
  EXPECT_EQ(check_claims(r)[0].verdict, "not measured");
}

TEST(SweepResults, JsonReadsBackAndBadDocumentsNameTheFile) {
  const SweepResults r = sample();
  const nlohmann::json j = sweep_results_json(r);
  EXPECT_EQ(j["runs"].size(), r.runs.size());
  EXPECT_EQ(j["frontier"]["rtn"].size(), 3u);
  EXPECT_EQ(j["claims"].size(), 5u);
  EXPECT_TRUE(j["runs"][0]["predicted_kl"].is_null());
  const SweepResults back = sweep_results_from_json(nlohmann::json::parse(j.dump()), "results.json");
  ASSERT_EQ(back.runs.size(), r.runs.size());
  for (size_t i = 0; i < r.runs.size(); ++i) {
    EXPECT_EQ(back.runs[i].name, r.runs[i].name);
    EXPECT_EQ(back.runs[i].kl_mean, r.runs[i].kl_mean);
    EXPECT_EQ(back.runs[i].layers.size(), r.runs[i].layers.size());
    EXPECT_EQ(std::isnan(back.runs[i].predicted_kl), std::isnan(r.runs[i].predicted_kl));
  }
  EXPECT_EQ(back.model.name, r.model.name);
  EXPECT_TRUE(j["skipped"].empty());
  SweepResults with_skip = r;
  with_skip.skipped.push_back({"gptq 1 bpw", "1 bpw is below the smallest model the candidate types make"});
  const SweepResults skip_back =
      sweep_results_from_json(nlohmann::json::parse(sweep_results_json(with_skip).dump()), "results.json");
  ASSERT_EQ(skip_back.skipped.size(), 1u);
  EXPECT_EQ(skip_back.skipped[0].name, "gptq 1 bpw");
  EXPECT_EQ(skip_back.skipped[0].reason, with_skip.skipped[0].reason);
  try {
    sweep_results_from_json(nlohmann::json::parse("{\"runs\": []}"), "x/results.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "x/results.json");
  }
}

TEST(ReportHtml, OnePointPerRunInEachChartAndOneRowPerRun) {
  const SweepResults r = sample();
  const std::string html = sweep_report_html(r);
  const size_t kl = html.find("id=\"kl-plot\""), top1 = html.find("id=\"top1-plot\""), runs = html.find("id=\"runs\"");
  ASSERT_NE(kl, std::string::npos);
  ASSERT_NE(top1, std::string::npos);
  ASSERT_NE(runs, std::string::npos);
  EXPECT_EQ(count(html.substr(kl, top1 - kl), "class=\"point\""), r.runs.size());
  EXPECT_EQ(count(html.substr(top1, runs - top1), "class=\"point\""), r.runs.size());
  EXPECT_EQ(count(html, "<tr class=\"run\""), r.runs.size());
  EXPECT_EQ(html.find("id=\"skipped\""), std::string::npos);  // nothing skipped, no note
  SweepResults with_skip = r;
  with_skip.skipped.push_back({"gptq <1> bpw", "below"});
  const std::string noted = sweep_report_html(with_skip);
  EXPECT_NE(noted.find("id=\"skipped\""), std::string::npos);
  EXPECT_NE(noted.find("<li>gptq &lt;1&gt; bpw: below</li>"), std::string::npos);
  // Squares for the mixes, circles for the targets (4 mixes, 3 targets) in each chart.
  EXPECT_EQ(count(html.substr(kl, top1 - kl), "<rect class=\"point\""), 4u);
  EXPECT_EQ(count(html.substr(kl, top1 - kl), "<circle class=\"point\""), 3u);
  // Two frontier lines per chart.
  EXPECT_EQ(count(html.substr(kl, top1 - kl), "class=\"frontier\""), 2u);
  // The heat map: 2 layers x 7 runs.
  EXPECT_EQ(count(html, "class=\"cell\""), 14u);
  // Escaped, self-contained.
  EXPECT_NE(html.find("m&lt;&amp;&gt;"), std::string::npos);
  EXPECT_EQ(html.find("m<&>"), std::string::npos);
  for (const char* outside : {"http://", "https://", "src=", "href="})
    EXPECT_EQ(count(html, outside), outside == std::string("http://") ? 3u : 0u) << outside;  // the SVG namespace only
}

TEST(SvgChart, LogAxisTicksAndNonPositiveValues) {
  ScatterChart c;
  c.id = "t";
  c.log_y = true;
  c.series = {{"s", "#000", false, false, {{1, 1e-4, "a", "a"}, {2, 1e-2, "b", "b"}, {3, 0.0, "c", "c"}}}};
  const std::string svg = scatter_svg(c);
  EXPECT_EQ(count(svg, "class=\"point\""), 3u);
  EXPECT_NE(svg.find(">0.001<"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_EQ(html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
}

}  // namespace
}  // namespace lmpack
