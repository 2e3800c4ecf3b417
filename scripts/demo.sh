#!/usr/bin/env bash
# Builds lmpack and runs its main job on the built-in default: stories260K
# (../shared/models) — model info, perplexity on the first 100 TinyStories
# validation stories, a greedy continuation of "Once upon a time", then
# Q4_K_M by round-to-nearest and by GPTQ, each evaluated the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
SHARED=${LMPACK_SHARED_DIR:-../shared}
MODEL=${1:-$SHARED/models/stories260K/stories260K.gguf}
LMPACK=build/release/lmpack
if [ ! -e "$MODEL" ]; then
  echo "demo: $MODEL not found (the default model lives in ../shared/models; pass a model path)" >&2
  exit 1
fi
$LMPACK info "$MODEL"
$LMPACK eval "$MODEL" --ctx 512 --text "$SHARED/data/tinystories-valid/tinystories_valid_first1000.txt" \
  --doc-separator '<|endoftext|>' --max-docs 100
$LMPACK generate "$MODEL" -p "Once upon a time" -n 48

# Compress it: Q4_K_M by plain rounding and by GPTQ calibrated on stories
# 200-999 (never evaluated on), then the same evaluation for both.
TEXT="$SHARED/data/tinystories-valid/tinystories_valid_first1000.txt"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
awk 'BEGIN { RS = "<[|]endoftext[|]>" } NR > 200 { printf "%s", $0 }' "$TEXT" > "$OUT/calib.txt"
$LMPACK quantize "$MODEL" "$OUT/rtn.gguf" Q4_K_M
$LMPACK quantize "$MODEL" "$OUT/gptq.gguf" Q4_K_M --method gptq --calib "$OUT/calib.txt" \
  --calib-samples 128 --calib-ctx 256
for q in rtn gptq; do
  echo "Q4_K_M ($q):"
  $LMPACK eval "$OUT/$q.gguf" --ctx 512 --text "$TEXT" --doc-separator '<|endoftext|>' --max-docs 100
done
