// SVG charts; see svg_chart.h.
#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace lmpack {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string tick_text(double v, bool log) {
  char buf[32];
  if (log) {
    std::snprintf(buf, sizeof buf, "%g", v);
  } else {
    std::snprintf(buf, sizeof buf, "%g", std::round(v * 1000.0) / 1000.0);
  }
  return buf;
}

// A "nice" step for about `n` ticks over `span`: 1, 2 or 5 times a power of 10.
double nice_step(double span, int n) {
  const double raw = span / std::max(n, 1);
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10.0 * p;
}

// Viridis, sampled at 6 stops, interpolated.
std::string heat_color(double t) {
  static const double kStops[6][3] = {{68, 1, 84}, {65, 68, 135}, {42, 120, 142}, {34, 168, 132}, {122, 209, 81}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 5.0;
  const int i = std::min(4, static_cast<int>(t));
  const double f = t - i;
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(kStops[i][0] + f * (kStops[i + 1][0] - kStops[i][0])),
                static_cast<int>(kStops[i][1] + f * (kStops[i + 1][1] - kStops[i][1])),
                static_cast<int>(kStops[i][2] + f * (kStops[i + 1][2] - kStops[i][2])));
  return buf;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string scatter_svg(const ScatterChart& c) {
  const double left = 72, right = 170, top = 30, bottom = 50;
  const double pw = c.width - left - right, ph = c.height - top - bottom;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const ChartSeries& s : c.series)
    for (const ChartPoint& p : s.points) {
      x0 = std::min(x0, p.x);
      x1 = std::max(x1, p.x);
      if (c.log_y && !(p.y > 0.0)) continue;
      const double y = c.log_y ? std::log10(p.y) : p.y;
      y0 = std::min(y0, y);
      y1 = std::max(y1, y);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  if (!std::isfinite(y0)) y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-9) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-9) y0 -= 0.5, y1 += 0.5;
  const double xpad = 0.05 * (x1 - x0), ypad = 0.06 * (y1 - y0);
  x0 -= xpad, x1 += xpad, y0 -= ypad, y1 += ypad;
  auto sx = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  auto sy = [&](double y) {
    double v = c.log_y ? (y > 0.0 ? std::log10(y) : y0) : y;
    return top + (1.0 - (v - y0) / (y1 - y0)) * ph;
  };

  std::string o = "<svg id=\"" + html_escape(c.id) + "\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(c.width) + "\" height=\"" + std::to_string(c.height) + "\" viewBox=\"0 0 " +
                  std::to_string(c.width) + " " + std::to_string(c.height) + "\" role=\"img\">\n";
  o += "<title>" + html_escape(c.title) + "</title>\n";
  o += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
       "\" class=\"plot-area\"/>\n";
  // x ticks
  const double xs = nice_step(x1 - x0, 8);
  for (double x = std::ceil(x0 / xs) * xs; x <= x1 + 1e-9; x += xs) {
    const double px = sx(x);
    o += "<line class=\"grid\" x1=\"" + num(px) + "\" y1=\"" + num(top) + "\" x2=\"" + num(px) + "\" y2=\"" + num(top + ph) + "\"/>";
    o += "<text class=\"tick\" x=\"" + num(px) + "\" y=\"" + num(top + ph + 16) + "\" text-anchor=\"middle\">" +
         tick_text(x, false) + "</text>\n";
  }
  // y ticks: decades (and 2, 5 within them when few) on a log axis
  if (c.log_y) {
    const int d0 = static_cast<int>(std::floor(y0)), d1 = static_cast<int>(std::ceil(y1));
    const bool minor = d1 - d0 <= 3;
    for (int d = d0; d <= d1; ++d)
      for (double m : minor ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        const double v = m * std::pow(10.0, d), lv = std::log10(v);
        if (lv < y0 || lv > y1) continue;
        const double py = sy(v);
        o += "<line class=\"grid\" x1=\"" + num(left) + "\" y1=\"" + num(py) + "\" x2=\"" + num(left + pw) + "\" y2=\"" + num(py) + "\"/>";
        o += "<text class=\"tick\" x=\"" + num(left - 6) + "\" y=\"" + num(py + 4) + "\" text-anchor=\"end\">" +
             tick_text(v, true) + "</text>\n";
      }
  } else {
    const double ys = nice_step(y1 - y0, 6);
    for (double y = std::ceil(y0 / ys) * ys; y <= y1 + 1e-9; y += ys) {
      const double py = sy(y);
      o += "<line class=\"grid\" x1=\"" + num(left) + "\" y1=\"" + num(py) + "\" x2=\"" + num(left + pw) + "\" y2=\"" + num(py) + "\"/>";
      o += "<text class=\"tick\" x=\"" + num(left - 6) + "\" y=\"" + num(py + 4) + "\" text-anchor=\"end\">" +
           tick_text(y, false) + "</text>\n";
    }
  }
  o += "<text class=\"axis-label\" x=\"" + num(left + pw / 2) + "\" y=\"" + num(c.height - 10) +
       "\" text-anchor=\"middle\">" + html_escape(c.x_label) + "</text>\n";
  o += "<text class=\"axis-label\" transform=\"translate(16," + num(top + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       html_escape(c.y_label) + "</text>\n";
  o += "<text class=\"chart-title\" x=\"" + num(left) + "\" y=\"18\">" + html_escape(c.title) + "</text>\n";

  // lines first, points over them
  for (const ChartSeries& s : c.series) {
    if (!s.line || s.points.size() < 2) continue;
    std::string pts;
    for (const ChartPoint& p : s.points) pts += num(sx(p.x)) + "," + num(sy(p.y)) + " ";
    o += "<polyline class=\"frontier\" fill=\"none\" stroke=\"" + html_escape(s.color) + "\" points=\"" + pts + "\"/>\n";
  }
  for (const ChartSeries& s : c.series) {
    if (s.line) continue;
    for (const ChartPoint& p : s.points) {
      const std::string attrs = " class=\"point\" data-run=\"" + html_escape(p.run) + "\" fill=\"" + html_escape(s.color) + "\"";
      const std::string tip = "<title>" + html_escape(p.tooltip) + "</title>";
      if (s.squares)
        o += "<rect" + attrs + " x=\"" + num(sx(p.x) - 5) + "\" y=\"" + num(sy(p.y) - 5) + "\" width=\"10\" height=\"10\">" +
             tip + "</rect>\n";
      else
        o += "<circle" + attrs + " cx=\"" + num(sx(p.x)) + "\" cy=\"" + num(sy(p.y)) + "\" r=\"5\">" + tip + "</circle>\n";
    }
  }
  // legend
  double ly = top + 8;
  for (const ChartSeries& s : c.series) {
    const double lx = left + pw + 14;
    if (s.line)
      o += "<line class=\"legend-line\" x1=\"" + num(lx) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(lx + 14) + "\" y2=\"" +
           num(ly) + "\" stroke=\"" + html_escape(s.color) + "\"/>";
    else if (s.squares)
      o += "<rect x=\"" + num(lx + 2) + "\" y=\"" + num(ly - 5) + "\" width=\"10\" height=\"10\" fill=\"" + html_escape(s.color) + "\"/>";
    else
      o += "<circle cx=\"" + num(lx + 7) + "\" cy=\"" + num(ly) + "\" r=\"5\" fill=\"" + html_escape(s.color) + "\"/>";
    o += "<text class=\"legend\" x=\"" + num(lx + 20) + "\" y=\"" + num(ly + 4) + "\">" + html_escape(s.label) + "</text>\n";
    ly += 18;
  }
  o += "</svg>\n";
  return o;
}

std::string heatmap_svg(const HeatMap& m) {
  const double cell_w = std::clamp(720.0 / std::max<size_t>(1, m.columns.size()), 4.0, 22.0), cell_h = 16;
  const double left = 170, top = 110, legend = 60;
  const double width = left + cell_w * static_cast<double>(m.columns.size()) + 90;  // room for the last slanted label
  const double height = top + cell_h * static_cast<double>(m.rows.size()) + legend;
  double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
  for (const auto& row : m.values)
    for (double v : row)
      if (v > 0.0) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!std::isfinite(lo)) lo = hi = 1.0;
  const double llo = std::log10(lo), lhi = std::max(std::log10(hi), llo + 1e-9);
  std::string o = "<svg id=\"" + html_escape(m.id) + "\" class=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  num(width) + "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) + "\">\n";
  for (size_t j = 0; j < m.columns.size(); ++j) {
    const double x = left + cell_w * (static_cast<double>(j) + 0.5);
    o += "<text class=\"col-label\" transform=\"translate(" + num(x + 3) + "," + num(top - 4) + ") rotate(-60)\">" +
         html_escape(m.columns[j]) + "</text>\n";
  }
  for (size_t i = 0; i < m.rows.size(); ++i) {
    const double y = top + cell_h * static_cast<double>(i);
    o += "<text class=\"row-label\" x=\"" + num(left - 6) + "\" y=\"" + num(y + cell_h - 4) + "\" text-anchor=\"end\">" +
         html_escape(m.rows[i]) + "</text>\n";
    for (size_t j = 0; j < m.columns.size(); ++j) {
      const double v = i < m.values.size() && j < m.values[i].size() ? m.values[i][j] : std::nan("");
      if (!(v > 0.0)) continue;
      const double t = (std::log10(v) - llo) / (lhi - llo);
      std::string tip = i < m.tooltips.size() && j < m.tooltips[i].size() ? m.tooltips[i][j] : "";
      o += "<rect class=\"cell\" x=\"" + num(left + cell_w * static_cast<double>(j)) + "\" y=\"" + num(y) + "\" width=\"" +
           num(cell_w - 1) + "\" height=\"" + num(cell_h - 1) + "\" fill=\"" + heat_color(t) + "\"><title>" +
           html_escape(tip) + "</title></rect>\n";
    }
  }
  // legend: a gradient of 20 steps from lo to hi
  const double ly = top + cell_h * static_cast<double>(m.rows.size()) + 20;
  for (int k = 0; k < 20; ++k)
    o += "<rect x=\"" + num(left + 12.0 * k) + "\" y=\"" + num(ly) + "\" width=\"12\" height=\"10\" fill=\"" +
         heat_color(k / 19.0) + "\"/>";
  char lo_text[32], hi_text[32];
  std::snprintf(lo_text, sizeof lo_text, "%.3g", lo);
  std::snprintf(hi_text, sizeof hi_text, "%.3g", hi);
  o += "\n<text class=\"legend\" x=\"" + num(left) + "\" y=\"" + num(ly + 24) + "\">" + lo_text + "</text>";
  o += "<text class=\"legend\" x=\"" + num(left + 240) + "\" y=\"" + num(ly + 24) + "\" text-anchor=\"end\">" + hi_text + "</text>";
  o += "<text class=\"legend\" x=\"" + num(left + 252) + "\" y=\"" + num(ly + 9) + "\">" + html_escape(m.value_label) +
       " (log scale)</text>\n";
  o += "</svg>\n";
  return o;
}

}  // namespace lmpack
