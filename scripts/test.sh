#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (ctest). Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
ctest --test-dir build/release --output-on-failure -j "$(nproc)" --timeout 900
