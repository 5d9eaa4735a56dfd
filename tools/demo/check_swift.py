#!/usr/bin/env python3
"""Checks that the Swift engine runs the exported glyph models as PyTorch does.

  check_swift.py [--run full|smoke|NAME] [--smoke] [--zipar .build/release/zipar]

For a few classes and CFG scales: `zipar generate --temperature 0 --tokens-out` (greedy raster) against
models.GPT.sample(temperature=0) on the same exported weights, and `zipar`'s PNG against the PyTorch VQ
decoding of the same tokens (every channel within 2). A token that differs only where PyTorch's two best
logits are within 1e-3 (a near tie that float rounding may flip) counts as a pass with a note.
Prints one line per case and 'N passed, N failed'.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from common import CLASSES, REPO, load_folder, run_dir, setup_torch, to_uint8  # noqa: E402
from models import GPT, GPTArgs, VQArgs, VQModel  # noqa: E402


def guided_logits(gpt, tokens, label, cfg, torch):
    """Teacher-forced logits [T, vocab] with CFG mixing, for the margin of a disagreement."""
    t = torch.tensor([tokens])
    with torch.no_grad():
        cond = gpt(t, torch.tensor([label]), drop_labels=False)[0]
        if cfg <= 1.0:
            return cond
        unc = gpt(t, torch.tensor([gpt.args.num_classes]), drop_labels=False)[0]
        return unc + (cond - unc) * cfg


def main(argv=None):
    from PIL import Image
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default=None)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--zipar", default=os.path.join(REPO, ".build", "release", "zipar"))
    ap.add_argument("--classes", type=int, nargs="+", default=[0, 3, 17, 35])
    ap.add_argument("--cfg", type=float, nargs="+", default=[1.0, 3.0])
    a = ap.parse_args(argv)
    a.run = a.run or ("smoke" if a.smoke else "full")
    rd = run_dir(a.run)
    torch = setup_torch(2)
    gpt, _ = load_folder(GPT, GPTArgs, os.path.join(rd, "gpt"), torch)
    vq, _ = load_folder(VQModel, VQArgs, os.path.join(rd, "vq"), torch)
    grid = int(round(gpt.args.block_size ** 0.5))
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for c in a.classes:
            for s in a.cfg:
                png, tok_json = os.path.join(tmp, "out.png"), os.path.join(tmp, "tokens.json")
                cmd = [a.zipar, "generate", "--gpt", os.path.join(rd, "gpt"), "--vq", os.path.join(rd, "vq"),
                       "--class-label", CLASSES[c], "--cfg-scale", str(s), "--temperature", "0", "--seed", "0",
                       "--quiet", "--output", png, "--tokens-out", tok_json]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    print(f"FAIL class {c} cfg {s:g}: zipar exited {r.returncode}: {r.stderr.strip()[-300:]}")
                    failed += 1
                    continue
                sw = json.load(open(tok_json))["tokens"]
                py = gpt.sample(torch.tensor([c]), cfg_scale=s, temperature=0)[0].tolist()
                note = ""
                ok_tokens = sw == py
                if not ok_tokens:
                    k = next(i for i in range(len(py)) if py[i] != sw[i])
                    lo = guided_logits(gpt, sw, c, s, torch)[k]
                    margin = float(lo[py[k]] - lo[sw[k]])
                    note = f", first difference at token {k} (PyTorch margin {margin:.2e})"
                    ok_tokens = margin < 1e-3
                with torch.no_grad():
                    ref = to_uint8(vq.decode_code(torch.tensor(sw).view(1, grid, grid)))[0]
                img = np.asarray(Image.open(png).convert("RGB"))
                diff = int(np.abs(img.astype(int) - ref.astype(int)).max())
                ok = ok_tokens and diff <= 2
                print(f"{'ok  ' if ok else 'FAIL'} class {c} cfg {s:g}: tokens {'equal' if sw == py else 'differ'}{note}; "
                      f"PNG vs PyTorch decode max |diff| {diff}")
                passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
