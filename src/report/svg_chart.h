// SVG charts written as text, for a report that opens with no network and no
// script library: a scatter plot with a linear x axis and a linear or log10 y
// axis, series of points (circles or squares) and lines, and a heat map.
// Every point is an element of class "point" with a data-run attribute and a
// <title> (the browser's tooltip), so pages and tests can find them.
#pragma once

#include <string>
#include <vector>

namespace lmpack {

struct ChartPoint {
  double x = 0.0, y = 0.0;
  std::string run;      // data-run: the run it stands for
  std::string tooltip;  // <title>
};

struct ChartSeries {
  std::string label;
  std::string color;      // CSS color
  bool squares = false;   // marker: squares (reference points), else circles
  bool line = false;      // join the points in order with a line (no markers)
  std::vector<ChartPoint> points;
};

struct ScatterChart {
  std::string id;  // the <svg> element's id
  std::string title, x_label, y_label;
  bool log_y = false;
  int width = 760, height = 420;
  std::vector<ChartSeries> series;
};

// Points with y <= 0 on a log axis are drawn at the axis' floor.
std::string scatter_svg(const ScatterChart& chart);

struct HeatMap {
  std::string id;
  std::vector<std::string> rows, columns;  // labels
  std::vector<std::vector<double>> values;  // [row][column]; NaN: no value (drawn empty)
  std::vector<std::vector<std::string>> tooltips;  // same shape, may be empty
  std::string value_label;  // the legend's caption
};

// Colors on a log10 scale from the smallest positive value to the largest.
std::string heatmap_svg(const HeatMap& map);

// Text for HTML/SVG: & < > " ' escaped.
std::string html_escape(const std::string& text);

}  // namespace lmpack
