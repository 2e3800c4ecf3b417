#!/usr/bin/env bash
# Fuzzes every reader and parser that takes bytes from a user (tests/fuzz/):
#   scripts/fuzz.sh [SECONDS] [HARNESS...]
# Configures and builds the "fuzz" preset (clang, libFuzzer + ASan + UBSan)
# when needed, writes the seed corpora (fuzz_seeds: from ../shared and lmpack's
# writers, into a temporary build/fuzz/seeds.* folder), then runs each harness for SECONDS (default 15) with its
# dictionary (tests/fuzz/dict/) and limits: -rss_limit_mb=2048, a
# -malloc_limit_mb that catches absurd allocations, -timeout for hangs.
# New coverage accumulates in build/fuzz/corpus/<harness>/. Prints per harness
# the executions, exec/s and the verdict; crash/leak/timeout/oom inputs go to
# $FUZZ_FINDINGS (default build/fuzz/findings/<harness>/). Exits 1 when any
# harness found a problem. A finding, once fixed, is committed as
# tests/fuzz/regressions/<harness>/<what-it-reproduces> (replayed by ctest).
# Environment: FUZZ_JOBS (build jobs, default nproc), FUZZ_FINDINGS, FUZZ_ARGS
# (extra libFuzzer flags), FUZZ_NO_BUILD=1 (use the targets as built, e.g. for
# two runs side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-15}
shift || true
ONLY=("$@")
BUILD=build/fuzz
FINDINGS=${FUZZ_FINDINGS:-$BUILD/findings}
JOBS=${FUZZ_JOBS:-$(nproc)}

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake --preset fuzz >/dev/null
fi
mapfile -t TABLE < <(grep -o '{"[a-z0-9_]*", fuzz_[a-z0-9_]*, [a-z]*, [0-9]*}' tests/fuzz/fuzz_registry.cpp |
                     sed 's/[{}",]//g')
TARGETS=(fuzz_seeds)
for row in "${TABLE[@]}"; do TARGETS+=("fuzz_$(echo "$row" | cut -d' ' -f1)"); done
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  build_start=$(date +%s)
  cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}"
  echo "fuzz.sh: build took $(( $(date +%s) - build_start )) s"
fi

run_start=$(date +%s)
# Seeds are made afresh for each run, in a folder of its own (two runs may go
# side by side); exit status 3 means ../shared is absent.
mkdir -p "$BUILD"
SEEDS=$(mktemp -d "$BUILD/seeds.XXXXXX")
trap 'rm -rf "$SEEDS"' EXIT
have_shared=1
set +e
"$BUILD/fuzz_seeds" "$SEEDS"
seeds_rc=$?
set -e
if [ "$seeds_rc" = 3 ]; then
  echo "fuzz.sh: ../shared is absent: fuzzing from the committed seeds only, skipping the harnesses that need it"
  have_shared=0
elif [ "$seeds_rc" != 0 ]; then
  echo "fuzz.sh: fuzz_seeds failed (exit $seeds_rc)"
  exit 2
fi

export OMP_NUM_THREADS=1  # the harnesses are serial; keep the machine for the fuzzer
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
found=0
printf '%-15s %12s %9s %7s  %s\n' harness executions exec/s seconds verdict
for row in "${TABLE[@]}"; do
  read -r name _fn needs_shared max_len <<<"$row"
  if [ ${#ONLY[@]} -gt 0 ] && [[ ! " ${ONLY[*]} " =~ " $name " ]]; then continue; fi
  if [ "$needs_shared" = true ] && [ "$have_shared" = 0 ]; then
    printf '%-15s %12s %9s %7s  %s\n' "$name" - - - "skipped (needs ../shared)"
    continue
  fi
  corpus=$BUILD/corpus/$name
  out=$FINDINGS/$name
  log=$BUILD/logs/$name.log
  mkdir -p "$corpus" "$out" "$(dirname "$log")"
  dirs=("$corpus")
  for d in "$SEEDS/$name" "tests/fuzz/seeds/$name" "tests/fuzz/regressions/$name"; do
    [ -d "$d" ] && dirs+=("$d")
  done
  dict=()
  [ -f "tests/fuzz/dict/$name.dict" ] && dict=("-dict=tests/fuzz/dict/$name.dict")
  stamp=$BUILD/logs/$name.start
  touch "$stamp"
  start=$(date +%s)
  set +e
  # shellcheck disable=SC2086
  "$BUILD/fuzz_$name" "${dict[@]}" -max_total_time="$SECONDS_EACH" -max_len="$max_len" \
    -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/" ${FUZZ_ARGS:-} "${dirs[@]}" >"$log" 2>&1
  rc=$?
  set -e
  took=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  artifacts=$(find "$out" -type f -newer "$stamp" | wc -l)
  if [ "$rc" = 0 ] && [ "$artifacts" = 0 ]; then
    verdict="nothing found"
  else
    verdict="FOUND (exit $rc): $(grep -m1 -oE 'ERROR: [A-Za-z]+: [a-z-]+|deadly signal|timeout after|out-of-memory|lmpack fuzz check failed|uncaught exception|runtime error' "$log" || echo see log) -> $out (log $log)"
    found=1
  fi
  printf '%-15s %12s %9s %7s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "$took" "$verdict"
done
echo "fuzz.sh: fuzzing took $(( $(date +%s) - run_start )) s"
exit $found
