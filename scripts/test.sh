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
# Real llama.cpp (npm package node-llama-cpp) for the compatibility tests
# (tests/e2e/llamacpp_compat_test.cpp). Optional: if it cannot be installed,
# those tests skip (pointed at a folder without the package) and CI goes on.
if ! llamacpp_log=$(scripts/install_llamacpp_check.sh 2>&1); then
  echo "$llamacpp_log"
  echo "test.sh: the llama.cpp compatibility tests will be SKIPPED: scripts/install_llamacpp_check.sh" \
       "failed: $(echo "$llamacpp_log" | tail -n 1)"
  export LMPACK_LLAMACPP_DIR="$PWD/build-llamacpp-unavailable"
else
  echo "$llamacpp_log"
fi
# Debian's chromium for the report's browser test (tests/e2e/sweep_cli_test.cpp).
# Optional as above: without it that test skips and says why.
if ! report_log=$(scripts/install_report_check.sh 2>&1); then
  echo "$report_log"
  echo "test.sh: the report's browser test will be SKIPPED: scripts/install_report_check.sh failed:" \
       "$(echo "$report_log" | tail -n 1)"
else
  echo "$report_log"
fi
ctest --test-dir build/release --output-on-failure -j "$(nproc)" --timeout 900
