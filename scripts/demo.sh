#!/usr/bin/env bash
# Installs the dependencies, builds lmpack and runs `lmpack demo`: with
# nothing downloaded, a small model trained here on generated stories, then
# a short sweep (three methods onto four llama.cpp mixes and three size
# targets), the table of size against quality printed and the report written
# to ./lmpack-demo/report/report.html; the time it took is printed at the end.
# Arguments go to `lmpack demo` (a model path: the same sweep on that model).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
build/release/lmpack demo "$@"
