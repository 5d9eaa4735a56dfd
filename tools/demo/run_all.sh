#!/usr/bin/env bash
# Builds the glyph demo model end to end; resumable: run it again after a stop and it carries on.
#
#   tools/demo/run_all.sh [--smoke] [--run NAME]
#
# Stages (each skips itself when its output is already complete):
#   setup       tools/.venv with torch (PyPI), numpy, pillow, fonttools        tools/demo/setup.sh
#   glyphs      font packages (apt-get) + rendered data set                   RUN/glyphs/{train,heldout}.npz
#   vq          VQ tokenizer (VQ-16 structure, downsampling 4)                RUN/ckpt/vq.pt
#   classifier  glyph CNN on real glyphs                                      RUN/ckpt/classifier.pt
#   gpt         tokens + LlamaGen c2i GPT                                     RUN/tokens.npz, RUN/ckpt/gpt.pt
#   export      config.json + model.safetensors                               RUN/{vq,gpt,classifier}/
#   evaluate    accuracy and Frechet distance of real, reconstructed, sampled RUN/eval.json
#   swift       if .build/release/zipar exists: check_swift.py (greedy tokens + pixels equal PyTorch's)
#               and one image per class from the Swift engine                 RUN/swift/classes.png
# RUN is tools/work/full (default) or tools/work/smoke (--smoke: tiny sizes, a couple of minutes).
# Everything runs under `nice -n $NICE` (default 19) with 2 torch threads. In the background:
#   setsid nohup tools/demo/run_all.sh > /dev/null 2>&1 &     then follow tools/work/full/logs/run_all.log
# Stop it (the running stage saves a checkpoint first):  kill -TERM -- -$(cat tools/work/full/run_all.pid)
set -euo pipefail
cd "$(dirname "$0")/../.."
SMOKE=()
RUN=full
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=(--smoke); RUN=smoke ;;
    --run) RUN="$2"; shift ;;
    *) echo "usage: $0 [--smoke] [--run NAME]" >&2; exit 2 ;;
  esac
  shift
done
[ ${#SMOKE[@]} -gt 0 ] && [ "$RUN" = full ] && RUN=smoke
WORKDIR="tools/work/$RUN"
mkdir -p "$WORKDIR/logs"
echo $$ > "$WORKDIR/run_all.pid"   # the process group id too when started with setsid
LOG="$WORKDIR/logs/run_all.log"
exec > >(tee -a "$LOG") 2>&1
NICE="${NICE:-19}"
PY=(nice -n "$NICE" tools/.venv/bin/python)
stamp() { echo "[run_all $(date '+%F %T')] $*"; }
T0=$(date +%s)

stamp "run $RUN: setup"
bash tools/demo/setup.sh

if [ -f "$WORKDIR/glyphs/fonts.json" ] && [ -f "$WORKDIR/glyphs/heldout.npz" ]; then
  stamp "glyphs: already built in $WORKDIR/glyphs"
else
  stamp "glyphs"
  "${PY[@]}" tools/demo/make_glyphs.py --install-fonts --out "$WORKDIR/glyphs" "${SMOKE[@]}"
fi

stamp "vq";         "${PY[@]}" tools/demo/train_vq.py --run "$RUN" "${SMOKE[@]}"
stamp "classifier"; "${PY[@]}" tools/demo/train_classifier.py --run "$RUN" "${SMOKE[@]}"
stamp "gpt";        "${PY[@]}" tools/demo/train_gpt.py --run "$RUN" "${SMOKE[@]}"
# a stage stopped by a signal exits 0 without 'done': only go on when all three are finished
if ! tools/.venv/bin/python - "$WORKDIR" <<'EOF'
import sys, torch
for s in ("vq", "classifier", "gpt"):
    ck = torch.load(f"{sys.argv[1]}/ckpt/{s}.pt", map_location="cpu", weights_only=False)
    if not ck.get("done"):
        sys.exit(f"{s} is not finished (step {ck['step']}): run again to resume")
EOF
then
  stamp "stopped before export"; exit 1
fi
stamp "export";     "${PY[@]}" tools/demo/export.py --run "$RUN"
if [ -f "$WORKDIR/eval.json" ] && [ "$WORKDIR/eval.json" -nt "$WORKDIR/gpt/model.safetensors" ]; then
  stamp "evaluate: $WORKDIR/eval.json is up to date"
else
  stamp "evaluate"; "${PY[@]}" tools/demo/evaluate.py --run "$RUN" "${SMOKE[@]}"
fi

if [ -x .build/release/zipar ]; then
  stamp "swift: greedy tokens and pixels of .build/release/zipar against PyTorch"
  "${PY[@]}" tools/demo/check_swift.py --run "$RUN" || stamp "swift: check FAILED"
  mkdir -p "$WORKDIR/swift"
  nice -n "$NICE" .build/release/zipar generate --gpt "$WORKDIR/gpt" --vq "$WORKDIR/vq" \
    --class-label 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ --columns 12 --quiet --output "$WORKDIR/swift/classes.png" > /dev/null
  stamp "swift: wrote $WORKDIR/swift/classes.png (one image per class, the model's sampling defaults)"
else
  stamp "swift: no .build/release/zipar (swift build -c release), skipped"
fi
stamp "done in $(( $(date +%s) - T0 ))s: models in $WORKDIR/{gpt,vq,classifier}, numbers in $WORKDIR/eval.json"
