#!/usr/bin/env python3
"""Greedy-token agreement of bfloat16 weights with float32, through the `zipar` command line.

  python3 tools/measure_bf16.py [--zipar .build/release/zipar]

For every model (the two conformance cases in Tests/ZipARTests/Fixtures and the embedded default model),
every class label and CFG scales 1 and 4, runs `zipar generate --temperature 0` with --weights-dtype
float32 and bfloat16 (raster order) and compares the token grids: the share of equal tokens, the images
whose tokens are all equal, and the mean position of the first difference. Prints a Markdown table.
Only needs Python's standard library.
"""
import argparse
import json
import os
import subprocess
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CASES = os.path.join(REPO, "Tests", "ZipARTests", "Fixtures", "conformance")


def models():
    for name in sorted(os.listdir(CASES)):
        folder = os.path.join(CASES, name)
        with open(os.path.join(folder, "gpt", "config.json")) as f:
            classes = json.load(f)["num_classes"]
        yield name, ["--gpt", os.path.join(folder, "gpt"), "--vq", os.path.join(folder, "vq")], [str(c) for c in range(classes)]
    yield "default (glyphs)", [], list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # its labels: characters


def tokens(zipar, model_args, label, cfg, dtype, tmp):
    out = os.path.join(tmp, "t.json")
    cmd = [zipar, "generate", *model_args, "--class-label", str(label), "--cfg-scale", str(cfg),
           "--temperature", "0", "--weights-dtype", dtype, "--quiet", "--output", os.path.join(tmp, "x.png"),
           "--tokens-out", out]
    subprocess.run(cmd, check=True, capture_output=True)
    with open(out) as f:
        return json.load(f)["tokens"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zipar", default=os.path.join(REPO, ".build", "release", "zipar"))
    a = ap.parse_args()
    print("| model | CFG | images | equal tokens | identical images | first difference (mean position) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, args, labels in models():
            classes = len(labels)
            for cfg in (1.0, 4.0):
                equal = total = identical = 0
                firsts = []
                for label in labels:
                    f32 = tokens(a.zipar, args, label, cfg, "float32", tmp)
                    b16 = tokens(a.zipar, args, label, cfg, "bfloat16", tmp)
                    same = [x == y for x, y in zip(f32, b16)]
                    equal += sum(same)
                    total += len(same)
                    identical += all(same)
                    if not all(same):
                        firsts.append(same.index(False))
                first = f"{sum(firsts) / len(firsts):.1f} of {len(f32)}" if firsts else "-"
                print(f"| {name} | {cfg:g} | {classes} | {100 * equal / total:.1f} % | {identical}/{classes} | {first} |")


if __name__ == "__main__":
    main()
