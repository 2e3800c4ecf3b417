#!/usr/bin/env bash
# Installs lmpack's build and test dependencies from Debian packages (root or sudo).
# ocl-icd-opencl-dev: Debian's oneDNN is built with its OpenCL GPU runtime, so its
# CMake config (dnnl-config.cmake) runs find_package(OpenCL REQUIRED); libdnnl-dev
# only *recommends* the headers, which --no-install-recommends leaves out.
# clang-14, libclang-rt-14-dev (ASan, UBSan, libFuzzer runtimes) and libomp-14-dev
# (clang's OpenMP): the sanitizer build and the fuzzers (scripts/test_sanitizers.sh,
# scripts/fuzz.sh); llvm-14 (llvm-symbolizer) for readable sanitizer reports;
# ccache: CI builds a clean clone (release, asan and fuzz builds) each run, and
# most of its objects are the same as in the run before.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  g++ cmake ninja-build pkg-config \
  libdnnl-dev ocl-icd-opencl-dev nlohmann-json3-dev libcli11-dev libpcre2-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  clang-14 libclang-rt-14-dev libomp-14-dev llvm-14 ccache >/dev/null
