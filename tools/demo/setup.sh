#!/usr/bin/env bash
# Creates tools/.venv with the pinned packages of tools/demo/requirements.txt (idempotent).
#   TORCH_SPEC   pip requirement for torch instead of the pinned PyPI one, e.g. a CPU-only wheel file
#                (then installed with --no-deps, since a CPU build needs none of the CUDA wheels)
#   PYTHON       interpreter for the venv (default python3, 3.10 or newer)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=tools/.venv
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
if "$VENV/bin/python" -c "import torch, numpy, PIL, fontTools" 2>/dev/null; then
  echo "setup: $VENV ready ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
  exit 0
fi
PIP=("$VENV/bin/pip" install --disable-pip-version-check -q)
if [ -n "${TORCH_SPEC:-}" ]; then
  "${PIP[@]}" --no-deps "$TORCH_SPEC"
  "${PIP[@]}" filelock typing-extensions sympy networkx jinja2 fsspec "setuptools>=77"
  grep -v -E '^(#|torch==)' tools/demo/requirements.txt | grep . | xargs "${PIP[@]}"
else
  echo "setup: installing torch from PyPI (about 2.8 GB of wheels, 5.3 GB installed; about 2 minutes here)"
  "${PIP[@]}" -r tools/demo/requirements.txt
fi
"$VENV/bin/python" -c "import torch, numpy, PIL, fontTools; print('setup: torch', torch.__version__, 'numpy', numpy.__version__, 'pillow', PIL.__version__)"
