#!/usr/bin/env bash
# Trains several GPT variants side by side (on one GPU, or the CPU), all on one run's tokens and VQ, then
# exports each and scores it over the sampling grid (sweep_sampling.py). Resumable like every stage:
# run it again with the same arguments and each variant carries on from its checkpoint.
#
#   tools/demo/gpt_variants.sh BASE MINUTES NAME="train_gpt flags" [NAME="flags" ...]
#
#   BASE     run folder under tools/work holding tokens.npz and ckpt/vq.pt (a finished VQ's tokens)
#   MINUTES  each variant stops (with a checkpoint) after this long; 0 = no limit
#   NAME     tools/work/NAME: tokens.npz and ckpt/vq.pt linked from BASE; logs/, ckpt/gpt.pt, gpt/, vq/
#
# Scores use the classifier in $CLASSIFIER (default: the shipped one). Finished variants print their
# sweep; unfinished ones say where they stopped. Example (the variants of docs/demo-model.md):
#   tools/demo/gpt_variants.sh cpu 8 d96="--dim 96 --n-layer 6 --steps 60000" d192="--dim 192 --n-head 3 --batch 128"
set -uo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 3 ] || { echo "usage: $0 BASE MINUTES NAME=\"flags\" ..." >&2; exit 2; }
BASE="tools/work/$1"; MINUTES="$2"; shift 2
PY="${PY:-tools/.venv/bin/python}"
CLASSIFIER="${CLASSIFIER:-Sources/zipar/DefaultModel/classifier}"
for f in tokens.npz ckpt/vq.pt; do
  [ -f "$BASE/$f" ] || { echo "$0: $BASE/$f is missing (train the VQ and tokenize first)" >&2; exit 2; }
done

names=()
for spec in "$@"; do
  name="${spec%%=*}"; flags="${spec#*=}"
  [ "$name" != "$spec" ] || { echo "$0: '$spec' is not NAME=\"flags\"" >&2; exit 2; }
  dir="tools/work/$name"
  mkdir -p "$dir/ckpt" "$dir/logs"
  ln -sf "$(realpath "$BASE/tokens.npz")" "$dir/tokens.npz"
  ln -sf "$(realpath "$BASE/ckpt/vq.pt")" "$dir/ckpt/vq.pt"
  # word splitting of $flags is intended: it is a list of train_gpt.py flags
  # shellcheck disable=SC2086
  "$PY" tools/demo/train_gpt.py --run "$name" --max-minutes "$MINUTES" $flags > "$dir/logs/variant.out" 2>&1 &
  names+=("$name")
done
wait

finished=()
for name in "${names[@]}"; do
  dir="tools/work/$name"
  if grep -q "gpt: finished\|already finished" "$dir/logs/train_gpt.log"; then
    finished+=("$name")
    { "$PY" tools/demo/export.py --run "$name" > /dev/null &&
      "$PY" tools/demo/sweep_sampling.py --run "$name" --classifier "$CLASSIFIER" > "$dir/logs/sweep.out" 2>&1; } &
  else
    echo "$name: not finished: $(grep 'step ' "$dir/logs/train_gpt.log" | tail -1)"
  fi
done
wait
for name in "${finished[@]}"; do
  dir="tools/work/$name"
  sed "s|^|  |" "$dir/logs/sweep.out"
  echo "$name: $(grep 'held-out NLL' "$dir/logs/train_gpt.log" | tail -1)"
done
