#!/usr/bin/env bash
# Installs Debian's chromium (root or sudo) for the test that opens a sweep's
# report.html in a real browser, headless (tests/e2e/sweep_cli_test.cpp). The
# build does not need it; without it that test skips and says why.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "install_report_check.sh: $(chromium --version 2>/dev/null | head -n 1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "install_report_check.sh: $(chromium --version 2>/dev/null | head -n 1)"
