#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (ctest). Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
# ctest runs two suites at once on two cores: OpenMP threads that spin at
# barriers then fight over the cores (measured: 64 s vs 2.8 s for one eval on
# a loaded machine), so tests wait passively.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
ctest --test-dir build/release --output-on-failure -j "$(nproc)" --timeout 900
