// report.html of a sweep: one self-contained file (no network, no script
// library, opens from disk): the model, the size-vs-quality plots (KL
// divergence and top-1 agreement against bits per weight; each method's
// frontier as a line, size targets as circles, llama.cpp's mixes as squares),
// the claims checked, a table of every run (sortable by a click on a
// header), and a heat map of each run's per-layer relative error.
//
// The charts are SVG that this file writes (report/svg_chart.h), not a
// charting package inlined from npm: the report is a few tens of KB, needs no
// build step or bundled third-party code, is deterministic (the tests compare
// it against results.json element by element), and prints and zooms as
// vectors. The only script is a few lines that sort the table and highlight a
// run's point and row together; the page is complete without it.
#pragma once

#include <string>

#include "report/sweep_results.h"

namespace lmpack {

// Element ids and classes the tests (and users' scripts) rely on:
//   #kl-plot, #top1-plot   the two charts; .point elements, one per run each
//   #runs                  the table; tbody tr.run, one per run, data-run = name
//   #layer-errors          the heat map (when runs have per-layer errors)
//   #claims                the claims table; body[data-ready="yes"] once the script ran
std::string sweep_report_html(const SweepResults& results);

}  // namespace lmpack
