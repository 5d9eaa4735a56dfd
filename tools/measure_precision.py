#!/usr/bin/env python3
"""Quality cost of bfloat16 and int8 weights against float32 on the glyph model, through `zipar`.

  python3 tools/measure_precision.py [--zipar .build/release/zipar] [--per-class 20] [--dtypes bfloat16,int8]

Three measurements on the embedded default (glyph) model, raster order:
1. Greedy-token agreement with float32: every label, CFG 1 and 4, `zipar generate --temperature 0`; the
   share of equal tokens, the images whose tokens are all equal, the mean position of the first difference.
2. Teacher-forced NLL: `zipar generate --score` (the model's default sampling, seed 0) for every label: the
   mean NLL per token of each precision's own image under that precision's model.
3. `zipar eval --per-class N --schedules raster` per precision: the glyph classifier's accuracy and the FD
   (36 classes × N images each).
Prints Markdown tables. Only needs Python's standard library (tools/measure_bf16.py covers the
conformance models too, for bfloat16).
"""
import argparse
import json
import os
import subprocess
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LABELS = list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def generate(zipar, label, dtype, tmp, extra):
    stats = os.path.join(tmp, "s.json")
    tokens = os.path.join(tmp, "t.json")
    cmd = [zipar, "generate", "--class-label", label, "--weights-dtype", dtype, "--quiet",
           "--output", os.path.join(tmp, "x.png"), "--tokens-out", tokens, "--stats-out", stats, *extra]
    subprocess.run(cmd, check=True, capture_output=True)
    with open(tokens) as f, open(stats) as g:
        return json.load(f)["tokens"], json.load(g)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zipar", default=os.path.join(REPO, ".build", "release", "zipar"))
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--dtypes", default="bfloat16,int8", help="precisions compared with float32")
    a = ap.parse_args()
    dtypes = a.dtypes.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        print("| weights | CFG | images | equal tokens | identical images | first difference (mean position) |")
        print("|---|---|---|---|---|---|")
        for cfg in ("1", "4"):
            extra = ["--temperature", "0", "--cfg-scale", cfg]
            reference = {l: generate(a.zipar, l, "float32", tmp, extra)[0] for l in LABELS}
            for dtype in dtypes:
                equal = total = identical = 0
                firsts = []
                for l in LABELS:
                    t = generate(a.zipar, l, dtype, tmp, extra)[0]
                    same = [x == y for x, y in zip(reference[l], t)]
                    equal += sum(same)
                    total += len(same)
                    identical += all(same)
                    if not all(same):
                        firsts.append(same.index(False))
                first = f"{sum(firsts) / len(firsts):.1f} of {len(t)}" if firsts else "-"
                print(f"| {dtype} | {cfg} | {len(LABELS)} | {100 * equal / total:.1f} % | {identical}/{len(LABELS)} | {first} |")
        print()
        print("| weights | teacher-forced NLL (mean over 36 images, nats/token) | eval accuracy | eval FD |")
        print("|---|---|---|---|")
        for dtype in ["float32", *dtypes]:
            nll = [generate(a.zipar, l, dtype, tmp, ["--score"])[1]["teacher_nll"] for l in LABELS]
            out = subprocess.run([a.zipar, "eval", "--per-class", str(a.per_class), "--schedules", "raster",
                                  "--weights-dtype", dtype, "--json"], check=True, capture_output=True, text=True).stdout
            row = json.loads(out)["rows"][0]
            print(f"| {dtype} | {sum(nll) / len(nll):.4f} | {100 * row['accuracy']:.2f} % ({row['images']} images) | {row['frechet_distance']:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
