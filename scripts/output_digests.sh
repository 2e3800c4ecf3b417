#!/usr/bin/env bash
# Digests of every model file the test suite and scripts/demo.sh write, for a
# change that must not alter any output byte (a refactor):
#   scripts/output_digests.sh before.txt     # on the old commit
#   scripts/output_digests.sh after.txt      # on the new one
#   diff before.txt after.txt                # no lines: byte-identical outputs
# Runs the Release build's ctest (the stress label left out: its outputs depend on
# when a signal lands) and the demo's quantize commands under an LD_PRELOAD shim
# (output_digests/record_outputs.c) that digests each *.gguf, *.safetensors and
# GPTQ/AWQ folder as it is renamed into place. Paths are written without the
# per-process parts (test temp folders, a folder's temporary), then sorted. Needs the release build (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/output_digests.sh OUT.txt}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -shared -fPIC -o "$work/record_outputs.so" scripts/output_digests/record_outputs.c -ldl
log="$work/raw.txt"
: > "$log"
SHARED=${LMPACK_SHARED_DIR:-../shared}
MODEL=$SHARED/models/stories260K/stories260K.gguf
TEXT=$SHARED/data/tinystories-valid/tinystories_valid_first1000.txt
awk 'BEGIN { RS = "<[|]endoftext[|]>" } NR > 200 { printf "%s", $0 }' "$TEXT" > "$work/calib.txt"
mkdir -p "$work/demo"
export LMPACK_OUTPUT_DIGESTS="$log"
LD_PRELOAD="$work/record_outputs.so" build/release/lmpack quantize "$MODEL" "$work/demo/rtn.gguf" Q4_K_M
LD_PRELOAD="$work/record_outputs.so" build/release/lmpack quantize "$MODEL" "$work/demo/gptq.gguf" Q4_K_M \
  --method gptq --calib "$work/calib.txt" --calib-samples 128 --calib-ctx 256
# A failing test still leaves the digests of what the others wrote (and the exit status says it failed).
status=0
LD_PRELOAD="$work/record_outputs.so" ctest --test-dir build/release -LE stress -j "$(nproc)" --timeout 900 \
  > "$work/ctest.txt" 2>&1 || { grep -A30 "tests FAILED" "$work/ctest.txt"; echo "output_digests: ctest failed" >&2; status=1; }
# A folder's files are also seen inside its temporary (<name>.tmp.<pid>/): only the final paths count.
grep -Ev '\.tmp\.[0-9]+/' "$log" | sed -E -e "s#$work/#WORK/#" -e 's#/lmpack-test-[0-9]+/#/lmpack-test/#' | sort > "$out"
echo "output_digests: $(wc -l < "$out") outputs in $out"
exit $status
