#!/usr/bin/env bash
# Builds lmpack and runs its main job on the built-in default: stories260K
# (../shared/models) — model info, perplexity on the first 100 TinyStories
# validation stories, and a greedy continuation of "Once upon a time".
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
