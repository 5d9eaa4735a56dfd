#!/usr/bin/env bash
# Builds the text-to-image glyph model end to end; resumable: run it again after a stop and it carries on.
#
#   tools/textglyphs/run_text.sh [--smoke] [--seed N] [--install]
#
# Stages (each skips itself when its output is already complete), in tools/work/text (or text-smoke):
#   setup    tools/.venv (tools/demo/setup.sh) + tools/textglyphs/requirements.txt
#   glyphs   font packages (apt-get) + images in the twelve named colours      RUN/glyphs/{train,heldout}.npz
#   train    tokenizer, VQ codes (the shipped glyph VQ), the Janus model       RUN/tokenizer, RUN/ckpt/text.pt
#   export   transformers JanusForConditionalGeneration folder                 RUN/janus/
#   check    if .build/release/zipar exists: greedy tokens of zipar = transformers' generate (RUN/greedy.json),
#            and zipar eval --prompts on the held-out captions                  RUN/eval.txt
# --install copies RUN/janus to Sources/zipar/DefaultModel/text and the greedy tokens to the test fixture.
# --seed N trains with another seed (run folder text-seedN), for the run-to-run spread.
# Everything runs under `nice -n $NICE` (default 19) with 2 torch threads. In the background:
#   setsid nohup tools/textglyphs/run_text.sh > /dev/null 2>&1 &    then follow tools/work/text/logs/run_text.log
set -euo pipefail
cd "$(dirname "$0")/../.."
SMOKE=()
RUN=text
SEED=0
INSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=(--smoke); RUN=text-smoke ;;
    --seed) SEED="$2"; shift ;;
    --install) INSTALL=1 ;;
    *) echo "usage: $0 [--smoke] [--seed N] [--install]" >&2; exit 2 ;;
  esac
  shift
done
[ "$SEED" != 0 ] && RUN="$RUN-seed$SEED"
WORKDIR="tools/work/$RUN"
mkdir -p "$WORKDIR/logs"
LOG="$WORKDIR/logs/run_text.log"
exec > >(tee -a "$LOG") 2>&1
NICE="${NICE:-19}"
PY=(nice -n "$NICE" tools/.venv/bin/python)
stamp() { echo "[run_text $(date '+%F %T')] $*"; }

stamp "run $RUN: setup"
bash tools/demo/setup.sh
tools/.venv/bin/python -c "import transformers, tokenizers, safetensors" 2>/dev/null \
  || tools/.venv/bin/pip install --disable-pip-version-check -q -r tools/textglyphs/requirements.txt

if [ -f "$WORKDIR/glyphs/heldout.npz" ]; then
  stamp "glyphs: already built in $WORKDIR/glyphs"
else
  stamp "glyphs"
  "${PY[@]}" tools/demo/make_glyphs.py --install-fonts --colors named --out "$WORKDIR/glyphs" "${SMOKE[@]}"
fi

stamp "train"
"${PY[@]}" tools/textglyphs/train_text.py --run "$RUN" --seed "$SEED" "${SMOKE[@]}"
stamp "export"
"${PY[@]}" tools/textglyphs/export_text.py --run "$RUN"

if [ -x .build/release/zipar ]; then
  stamp "check: zipar's greedy tokens against transformers' generate"
  "${PY[@]}" tools/textglyphs/check_text_model.py --model "$WORKDIR/janus" --out "$WORKDIR/greedy.json" --zipar .build/release/zipar
  stamp "check: zipar eval --prompts"
  nice -n "$NICE" .build/release/zipar eval --prompts --model "$WORKDIR/janus" --schedules raster --quiet | tee "$WORKDIR/eval.txt"
else
  stamp "check: skipped (no .build/release/zipar; swift build -c release first)"
fi

if [ "$INSTALL" = 1 ]; then
  rm -rf Sources/zipar/DefaultModel/text
  cp -r "$WORKDIR/janus" Sources/zipar/DefaultModel/text
  [ -f "$WORKDIR/greedy.json" ] && cp "$WORKDIR/greedy.json" Tests/ZipARTests/Fixtures/textglyphs/greedy.json
  stamp "installed $WORKDIR/janus as Sources/zipar/DefaultModel/text (rebuild zipar to embed it)"
fi
stamp "done"
