// report.html; see report_html.h.
#include "report/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "report/svg_chart.h"

namespace lmpack {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string bytes_text(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000.0 && u < 4) b /= 1000.0, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", b, units[u]);
  return buf;
}

const char* color_of(size_t i) {
  static const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
  return kColors[i % 8];
}

std::string tooltip(const SweepResults& r, const SweepRun& run) {
  return run.name + ": " + fmt("%.3f", run.bits_per_weight) + " bpw, " + bytes_text(static_cast<double>(run.file_bytes)) +
         ", KL " + fmt("%.5f", run.kl_mean) + ", top-1 " + fmt("%.2f%%", 100.0 * run.top1) + ", quality kept " +
         fmt("%.2f%%", 100.0 * quality_kept(r, run));
}

// One chart: y of every run against bits per weight, per method a series of
// targets (circles), one of mixes (squares) and its frontier (a line).
std::string chart(const SweepResults& r, const std::string& id, const std::string& title, const std::string& y_label,
                  bool log_y, double (*y_of)(const SweepRun&)) {
  ScatterChart c;
  c.id = id;
  c.title = title;
  c.x_label = "bits per weight (tensor bytes x 8 / parameters)";
  c.y_label = y_label;
  c.log_y = log_y;
  const std::vector<std::string> methods = sweep_methods(r);
  for (size_t m = 0; m < methods.size(); ++m) {
    ChartSeries targets{methods[m] + " targets", color_of(m), false, false, {}};
    ChartSeries mixes{methods[m] + " mixes", color_of(m), true, false, {}};
    ChartSeries front{methods[m] + " frontier", color_of(m), false, true, {}};
    for (const SweepRun& run : r.runs) {
      if (run.method != methods[m]) continue;
      ChartPoint p{run.bits_per_weight, y_of(run), run.name, tooltip(r, run)};
      (run.kind == "mix" ? mixes : targets).points.push_back(p);
    }
    for (size_t i : pareto_front(r, methods[m]))
      front.points.push_back({r.runs[i].bits_per_weight, y_of(r.runs[i]), r.runs[i].name, ""});
    for (ChartSeries* s : {&front, &targets, &mixes})
      if (!s->points.empty()) c.series.push_back(*s);
  }
  return scatter_svg(c);
}

double kl_of(const SweepRun& run) { return run.kl_mean; }
double top1_of(const SweepRun& run) { return 100.0 * run.top1; }

std::string cell(const std::string& text, double sort_value) {
  return "<td data-v=\"" + fmt("%.10g", sort_value) + "\">" + html_escape(text) + "</td>";
}
std::string cell(const std::string& text) { return "<td>" + html_escape(text) + "</td>"; }

std::string layer_heat_map(const SweepResults& r) {
  HeatMap m;
  m.id = "layer-errors";
  m.value_label = "relative output error";
  std::map<std::string, size_t> column;
  for (const SweepRun& run : r.runs)
    for (const SweepLayer& l : run.layers)
      if (column.emplace(l.name, m.columns.size()).second) m.columns.push_back(l.name);
  if (m.columns.empty()) return "";
  for (const SweepRun& run : r.runs) {
    if (run.layers.empty()) continue;
    m.rows.push_back(run.name);
    std::vector<double> values(m.columns.size(), std::nan(""));
    std::vector<std::string> tips(m.columns.size());
    for (const SweepLayer& l : run.layers) {
      const size_t j = column.at(l.name);
      values[j] = l.relative_error;
      tips[j] = run.name + " / " + l.name + ": " + l.type + ", relative error " + fmt("%.5f", l.relative_error);
    }
    m.values.push_back(std::move(values));
    m.tooltips.push_back(std::move(tips));
  }
  // Shorter column labels: "blk.3.ffn_down.weight" -> "3.ffn_down".
  for (std::string& c : m.columns) {
    if (c.rfind("blk.", 0) == 0) c = c.substr(4);
    if (c.size() > 7 && c.compare(c.size() - 7, 7, ".weight") == 0) c.resize(c.size() - 7);
  }
  return heatmap_svg(m);
}

constexpr const char* kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; white-space: nowrap; }
.info td { white-space: normal; }
th { background: #f2f2f2; cursor: pointer; user-select: none; }
td:first-child, th:first-child { text-align: left; }
tr.highlight td { background: #fff3c4; }
.info td { text-align: left; }
.chart .plot-area { fill: #fff; stroke: #999; }
.chart .grid { stroke: #e5e5e5; }
.chart .tick, .chart .legend, .heatmap text { font-size: 11px; fill: #333; }
.chart .axis-label { font-size: 12px; fill: #222; }
.chart .chart-title { font-size: 13px; font-weight: 600; }
.chart .frontier { stroke-width: 1.5; opacity: 0.7; }
.chart .legend-line { stroke-width: 2; }
.chart .point { stroke: #fff; stroke-width: 1; opacity: 0.9; }
.chart .point.highlight { stroke: #000; stroke-width: 2.5; }
.verdict-holds, .verdict-reached { color: #176b2c; font-weight: 600; }
.verdict-does-not-hold, .verdict-not-reached { color: #a61b1b; font-weight: 600; }
.note { color: #555; font-size: 13px; }
)";

constexpr const char* kScript = R"(
(function () {
  function value(row, col) {
    const c = row.cells[col];
    const v = c.dataset.v;
    return v !== undefined ? parseFloat(v) : c.textContent;
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('th').forEach(function (th, col) {
      th.addEventListener('click', function () {
        const body = table.tBodies[0];
        const asc = th.dataset.dir !== 'asc';
        th.dataset.dir = asc ? 'asc' : 'desc';
        const rows = Array.from(body.rows);
        rows.sort(function (a, b) {
          const x = value(a, col), y = value(b, col);
          const d = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
          return asc ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  function mark(run, on) {
    document.querySelectorAll('[data-run]').forEach(function (el) {
      if (el.dataset.run === run) el.classList.toggle('highlight', on);
    });
  }
  document.querySelectorAll('[data-run]').forEach(function (el) {
    el.addEventListener('mouseenter', function () { mark(el.dataset.run, true); });
    el.addEventListener('mouseleave', function () { mark(el.dataset.run, false); });
  });
  document.body.dataset.ready = 'yes';
})();
)";

}  // namespace

std::string sweep_report_html(const SweepResults& r) {
  const SweepModelInfo& m = r.model;
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>lmpack sweep: " +
                  html_escape(m.name) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  o += "<h1>lmpack sweep: " + html_escape(m.name) + "</h1>\n";
  o += "<p class=\"note\">" + std::to_string(r.runs.size()) + " runs in " + fmt("%.1f", r.seconds) + " s on " +
       std::to_string(r.threads) + " thread(s), " + html_escape(r.created) +
       ". Quality is measured against the model as read: KL divergence and top-1 agreement of every scored position, "
       "and perplexity (quality kept = base perplexity / the run's).</p>\n";

  o += "<h2>Model</h2>\n<table class=\"info\">\n";
  auto row = [&](const std::string& k, const std::string& v) {
    o += "<tr><th>" + html_escape(k) + "</th><td>" + html_escape(v) + "</td></tr>\n";
  };
  row("file", m.path);
  row("architecture", m.architecture);
  row("parameters", std::to_string(m.parameters));
  row("shape", std::to_string(m.layers) + " blocks, dim " + std::to_string(m.dim) + ", FFN " +
                   std::to_string(m.hidden_dim) + ", heads " + std::to_string(m.heads) + "/" +
                   std::to_string(m.kv_heads) + ", vocabulary " + std::to_string(m.vocab) + ", context " +
                   std::to_string(m.context));
  row("size as read", bytes_text(static_cast<double>(m.input_bytes)) + " (F32 " + bytes_text(f32_bytes(m)) + ", F16 " +
                          bytes_text(f16_bytes(m)) + ")");
  std::string calib;
  for (const std::string& f : r.calibration) calib += (calib.empty() ? "" : ", ") + f;
  row("calibration", calib + ": " + std::to_string(r.calibration_windows) + " windows of " +
                         std::to_string(r.calibration_ctx) + " tokens");
  row("evaluation", r.eval_text + " (" + r.eval_cut + "): " + std::to_string(r.eval_tokens) + " scored tokens");
  row("base perplexity", fmt("%.4f", r.base_perplexity));
  o += "</table>\n";

  o += "<h2>Size against quality</h2>\n";
  o += "<p class=\"note\">Circles: size targets (a type per tensor, allocated); squares: llama.cpp's standard mixes; "
       "lines: each method's frontier (no run of that method is smaller with a lower KL). Hover a point for its "
       "figures.</p>\n";
  o += chart(r, "kl-plot", "KL divergence from the base model (lower is better)", "mean KL divergence (log)", true, kl_of);
  o += chart(r, "top1-plot", "Top-1 agreement with the base model (higher is better)", "top-1 agreement (%)", false,
             top1_of);

  o += "<h2>Claims</h2>\n<table id=\"claims\" class=\"info\">\n<thead><tr><th>claim</th><th>verdict</th><th>evidence</th></tr></thead><tbody>\n";
  for (const SweepClaim& c : check_claims(r)) {
    std::string cls = c.verdict;
    std::replace(cls.begin(), cls.end(), ' ', '-');
    o += "<tr><td>" + html_escape(c.claim) + "</td><td class=\"verdict-" + cls + "\">" + html_escape(c.verdict) +
         "</td><td>" + html_escape(c.evidence) + "</td></tr>\n";
  }
  o += "</tbody></table>\n";

  o += "<h2>Every run</h2>\n<p class=\"note\">Click a header to sort.</p>\n";
  o += "<table id=\"runs\" class=\"sortable\">\n<thead><tr><th>run</th><th>method</th><th>kind</th><th>bits/weight</th>"
       "<th>file</th><th>x smaller than F32</th><th>perplexity</th><th>quality kept</th><th>KL mean</th>"
       "<th>KL p99</th><th>top-1</th><th>predicted KL</th><th>compress s</th><th>eval s</th></tr></thead>\n<tbody>\n";
  for (const SweepRun& run : r.runs) {
    o += "<tr class=\"run\" data-run=\"" + html_escape(run.name) + "\">";
    o += cell(run.name) + cell(run.method) + cell(run.kind);
    o += cell(fmt("%.3f", run.bits_per_weight), run.bits_per_weight);
    o += cell(bytes_text(static_cast<double>(run.file_bytes)), static_cast<double>(run.file_bytes));
    const double smaller = run.file_bytes ? f32_bytes(m) / static_cast<double>(run.file_bytes) : 0.0;
    o += cell(fmt("%.2f", smaller), smaller);
    o += cell(fmt("%.4f", run.perplexity), run.perplexity);
    o += cell(fmt("%.2f%%", 100.0 * quality_kept(r, run)), quality_kept(r, run));
    o += cell(fmt("%.5f", run.kl_mean), run.kl_mean);
    o += cell(fmt("%.4f", run.kl_p99), run.kl_p99);
    o += cell(fmt("%.2f%%", 100.0 * run.top1), run.top1);
    o += std::isnan(run.predicted_kl) ? cell("", -1.0) : cell(fmt("%.5f", run.predicted_kl), run.predicted_kl);
    o += cell(fmt("%.1f", run.seconds), run.seconds) + cell(fmt("%.1f", run.eval_seconds), run.eval_seconds);
    o += "</tr>\n";
  }
  o += "</tbody></table>\n";
  if (!r.skipped.empty()) {
    o += "<p class=\"note\" id=\"skipped\">Not run:</p>\n<ul class=\"skipped\">\n";
    for (const SweepSkip& s : r.skipped) o += "<li>" + html_escape(s.name) + ": " + html_escape(s.reason) + "</li>\n";
    o += "</ul>\n";
  }

  const std::string heat = layer_heat_map(r);
  if (!heat.empty()) {
    o += "<h2>Per-layer error</h2>\n<p class=\"note\">Each linear layer's relative output error on the calibration "
         "windows (the calibration engine's ||ΔW X|| / ||W X||), one row per run.</p>\n" + heat;
  }
  o += "<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return o;
}

}  // namespace lmpack
