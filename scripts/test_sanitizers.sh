#!/usr/bin/env bash
# Builds lmpack with AddressSanitizer + UndefinedBehaviorSanitizer (preset
# `asan`: clang, libraries and the CLI at -O1, test code at -O0) and runs the
# unit and end-to-end suites under them. Used by .ci/run after the Release
# suite (scripts/test.sh); scripts/install_deps.sh must have run.
#
#   scripts/test_sanitizers.sh [--all]
#
# Without --all, the few tests that are quality or throughput sweeps over the
# bigger model are left out: they take 10+ minutes under ASan and exercise no
# code path that the smaller tests kept here do not (every GGUF type is
# still quantized on stories260K, GPTQ/AWQ/SparseGPT run end to end on it, and
# the GPTQ/AWQ/compressed-tensors writers and readers run on small random
# models in pipeline_tests). So are the comparisons with real llama.cpp
# (LlamaCppCompat, LlamaCppArchCompat): the files they check are written and
# read by the smaller tests too, and every architecture's forward runs in
# model_tests and runtime_tests.
# The interrupt stress test (label stress: 30 interrupted GPTQ/SparseGPT runs,
# 6 minutes under ASan) is left out too; the Release suite runs it, and the
# e2e interrupt tests run here.
set -euo pipefail
cd "$(dirname "$0")/.."
ALL=0
for arg in "$@"; do
  case "$arg" in
    --all) ALL=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "$arg: unknown option (see --help)" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$(nproc)"
echo "test_sanitizers.sh: asan build in $(( $(date +%s) - start )) s"

# Sweeps over ts-llama-4.9M or every type x method; see above. The
# sensitivity tests measure ts-llama-4.9M again in each test's own process
# (one forward per matrix: 60-125 s each under ASan); one of them,
# SizeTargetTest.TheWrittenFile..., keeps that path under ASan.
kSlow='TensorSensitivityTest\.|SizeTargetTest\.(BitsPerWeight|MoreBits|TensorsTheOptions)|GgufQuantize\.TsLlamaEveryTypeUnderCeilings|CalibrateCli\.GptqAwqAndCompressedTensorsExportsLoadBackAndEvaluate|CalibrateCli\.SparseInt4ExportsAsMarlin24AndLoadsBack|PrunePipeline\.SparseGptAndWandaBeatMagnitudeAt50PercentAnd2of4|CalibrateCli\.GptqQ4KMBeatsImportanceWeightedRtnAtTheSameSize|PrunePipeline\.ExactSparsityAndNmCountsInEveryLinear|SizeTargetCli\.BeatsTheMixOfTheSameSizeOnTsLlama|SweepCli\.|DemoCli\.TrainsAModelSweepsItAndWritesTheReport|LlamaCpp(Arch)?Compat'
exclude=()
if [ "$ALL" = 0 ]; then exclude=(-E "$kSlow" -LE stress); fi

export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# Leaks are errors; UB stops the test with a stack trace.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
start=$(date +%s)
ctest --test-dir build/asan --output-on-failure -j "$(nproc)" --timeout 1800 "${exclude[@]}"
echo "test_sanitizers.sh: suites under ASan+UBSan in $(( $(date +%s) - start )) s"
