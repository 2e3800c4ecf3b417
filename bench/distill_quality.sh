#!/usr/bin/env bash
# The 5-10x distillation table (issue 11): students of ts-llama-4.9M at about
# 1/5 and 1/10 of its parameters, each trained on the same batches (same steps,
# batch, seq and seed), five ways:
#   scratch     next-token cross-entropy on the text only (lmpack train --config)
#   distill     a fresh student on the teacher's distributions (lmpack distill --student-config)
#   prune       the teacher cut by structured pruning, then distilled (lmpack distill --prune-...)
#   prune-text  the same cut (lmpack prune, same windows), then trained on the text only
#               (lmpack train --model): pruning + retraining without the teacher
#   prune-hidden  prune, distilled with hidden-state matching too (--hidden-weight $HIDDEN, default 1)
# Quality: perplexity on TinyStories validation stories 0-99 (document mode, ctx
# 256, as in ../shared/DATA.md), and PPL_teacher / PPL_student. The students
# train on stories 100-999 (never on the stories they are scored on); the
# distilled ones may instead learn from text the teacher writes (TEACHER_SAMPLES).
#
# Usage: bench/distill_quality.sh [STEPS] [THREADS]    (from the repository root,
#        after scripts/build.sh; default 2500 steps of 16 x 256 tokens, all threads:
#        the pruned 1/5 student then takes about 30 minutes on 2 threads, teacher included)
# Env: LMPACK=BINARY (default build/release/lmpack), TEACHER_SAMPLES=N (0: train on the
# text), BATCH=B (default 16), OUT=DIR (default /tmp/lmpack-distill-quality),
# STUDENTS="fifth-prune ..." (a subset, in order; default all ten), KEEP_CACHE=1 (keep
# $OUT/teacher.cache from an earlier run of the same batches). The distilled students
# share one teacher cache (top 32 tokens per position): the first, fifth-prune, runs the
# teacher and fills it (its time includes the teacher), the other three read it.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-2500}
THREADS=${2:-0}
OUT=${OUT:-/tmp/lmpack-distill-quality}
SHARED=${LMPACK_SHARED_DIR:-../shared}
L=${LMPACK:-build/release/lmpack}
TEACHER=$SHARED/models/ts-llama-4.9M/ts-llama-4.9M.bin
TOK=$SHARED/models/stories260K/tok512.bin
VALID=$SHARED/data/tinystories-valid/tinystories_valid_first1000.txt
mkdir -p "$OUT"
# Stories 100-999 for training (the separator kept, so documents stay apart).
awk 'BEGIN { RS = "<[|]endoftext[|]>" } NR > 100 { printf "%s<|endoftext|>", $0 }' "$VALID" > "$OUT/train.txt"

config() {  # config DIM LAYERS HEADS HIDDEN FILE
  cat > "$5" <<JSON
{"architectures": ["LlamaForCausalLM"], "hidden_size": $1, "num_hidden_layers": $2, "num_attention_heads": $3,
 "num_key_value_heads": $3, "intermediate_size": $4, "vocab_size": 512, "max_position_embeddings": 256,
 "rms_norm_eps": 1e-5, "tie_word_embeddings": true}
JSON
}
config 128 4 4 384 "$OUT/fifth.json"   # 918,656 parameters: 5.3x fewer
config 96 4 3 288 "$OUT/tenth.json"    # 529,248 parameters: 9.2x fewer

ppl() {
  $L eval "$1" --tokenizer "$TOK" --text "$VALID" --doc-separator '<|endoftext|>' --max-docs 100 --ctx 256 --json \
    -t "$THREADS" | sed -E 's/.*"perplexity":([0-9.]+).*/\1/'
}
COMMON=(--steps "$STEPS" --batch "${BATCH:-16}" --seq 256 --lr 2e-3 --min-lr 2e-4 --log-every 250 -t "$THREADS")
TEXT=(--data "$OUT/train.txt")
DISTILL_TEXT=("${TEXT[@]}" --teacher-cache "$OUT/teacher.cache")
if [ "${TEACHER_SAMPLES:-0}" -gt 0 ]; then DISTILL_TEXT=(--teacher-samples "$TEACHER_SAMPLES"); fi
PRUNE_TEXT=("${TEXT[@]}" --teacher-cache "$OUT/teacher.cache")  # the cut is scored on the text
[ "${KEEP_CACHE:-0}" = 1 ] || rm -f "$OUT/teacher.cache"

run() {  # run NAME COMMAND...
  local name=$1; shift
  local start; start=$(date +%s)
  "$@" > "$OUT/$name.log"
  echo "$name $(( $(date +%s) - start ))" >> "$OUT/seconds.txt"
}
touch "$OUT/seconds.txt"
prune_flags() {  # prune_flags fifth|tenth [PREFIX]: the structured cut of each size
  local p=${2:---}
  case $1 in
    fifth) echo "${p}drop-blocks 3 ${p}heads 4 ${p}ffn-width 192" ;;
    tenth) echo "${p}drop-blocks 4 ${p}heads 4 ${p}ffn-width 128" ;;
  esac
}
student() {  # student NAME: trains it
  case $1 in
    fifth-prune) run fifth-prune $L distill --teacher "$TEACHER" --tokenizer "$TOK" --prune-drop-blocks 3 --prune-heads 4 \
      --prune-ffn-width 192 "${PRUNE_TEXT[@]}" -o "$OUT/fifth-prune.gguf" "${COMMON[@]}" ;;     # 870,144: 5.6x fewer
    tenth-prune) run tenth-prune $L distill --teacher "$TEACHER" --tokenizer "$TOK" --prune-drop-blocks 4 --prune-heads 4 \
      --prune-ffn-width 128 "${PRUNE_TEXT[@]}" -o "$OUT/tenth-prune.gguf" "${COMMON[@]}" ;;     # 525,568: 9.2x fewer
    fifth-prune-text | tenth-prune-text)  # the cut distill makes: 32 windows of 256 tokens, seed 0
      local cut; cut=$(prune_flags "${1%-prune-text}")
      run "$1-cut" $L prune "$TEACHER" "$OUT/$1-cut.gguf" --tokenizer "$TOK" $cut --calib "$OUT/train.txt" \
        --calib-samples 32 --calib-ctx 256 -t "$THREADS"
      run "$1" $L train --model "$OUT/$1-cut.gguf" --tokenizer "$TOK" "${TEXT[@]}" -o "$OUT/$1.gguf" "${COMMON[@]}"
      rm -f "$OUT/$1-cut.gguf" ;;
    fifth-prune-hidden | tenth-prune-hidden)  # no teacher cache: the states are the teacher's of every batch
      run "$1" $L distill --teacher "$TEACHER" --tokenizer "$TOK" $(prune_flags "${1%-prune-hidden}" --prune-) \
        "${TEXT[@]}" --hidden-weight "${HIDDEN:-1}" -o "$OUT/$1.gguf" "${COMMON[@]}" ;;
    fifth-distill | tenth-distill) run "$1" $L distill --teacher "$TEACHER" --tokenizer "$TOK" \
      --student-config "$OUT/${1%-distill}.json" "${DISTILL_TEXT[@]}" -o "$OUT/$1.gguf" "${COMMON[@]}" ;;
    fifth-scratch | tenth-scratch) run "$1" $L train --config "$OUT/${1%-scratch}.json" --tokenizer "$TOK" \
      "${TEXT[@]}" -o "$OUT/$1.gguf" "${COMMON[@]}" ;;
    *) echo "unknown student $1" >&2; exit 2 ;;
  esac
}
ALL="fifth-prune fifth-distill tenth-prune tenth-distill fifth-scratch tenth-scratch fifth-prune-text tenth-prune-text
fifth-prune-hidden tenth-prune-hidden"
for name in ${STUDENTS:-$ALL}; do
  rm -f "$OUT/$name.gguf" "$OUT/$name.gguf.train-state"
  student "$name"
done

T=$(ppl "$TEACHER")
printf "\nteacher ts-llama-4.9M: PPL %s (stories 0-99, ctx 256)\n%-18s %10s %8s %10s %8s\n" "$T" student parameters PPL "teacher/PPL" seconds
for name in fifth-scratch fifth-distill fifth-prune fifth-prune-text fifth-prune-hidden tenth-scratch tenth-distill \
  tenth-prune tenth-prune-text tenth-prune-hidden; do
  [ -f "$OUT/$name.gguf" ] || continue
  P=$(ppl "$OUT/$name.gguf")
  N=$($L info "$OUT/$name.gguf" --json | tr -d ' \n' | sed -E 's/.*"parameters":([0-9]+).*/\1/')
  S=$(awk -v n="$name" '$1 == n { s = $2 } END { print s }' "$OUT/seconds.txt")
  printf "%-18s %10s %8.3f %10.3f %8s\n" "$name" "$N" "$P" "$(awk -v t="$T" -v p="$P" 'BEGIN { print t / p }')" "$S"
done
