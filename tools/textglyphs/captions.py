"""Captions of the glyph images: what was drawn (the character, the glyph colour, the background colour)
in varied wording and word order.

The images come from `tools/demo/make_glyphs.py --colors named` (the twelve colours of NAMED_PALETTE).
Letters are drawn upper case; a caption writes a letter in upper or lower case at random (the model
learns that "k" and "K" ask for the same glyph), digits as the digit. `caption(char, fg, bg, rng)`
picks one of TEMPLATES and fills it; the same rng state gives the same caption.

  captions.py --data DIR --out FILE [--count N] [--seed S]

writes FILE (JSON): the palette (names and sRGB) and N held-out captions, each {prompt, char, fg, bg},
drawn from the held-out split's (character, colour pair)s with captions from a seed the training never
uses. `zipar eval` reads this file from the shipped text model's folder.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "demo"))
from common import CLASSES, write_json  # noqa: E402
from make_glyphs import NAMED_PALETTE  # noqa: E402

COLOR_NAMES = [n for n, _ in NAMED_PALETTE]

# {c}: the character with its noun ("the letter Q", "the digit 7", "Q"); {x}: the bare character;
# {f}: glyph colour; {b}: background colour.
TEMPLATES = [
    "a {f} {x} on a {b} background",
    "{c}, {f} on {b}",
    "{f} {c} on {b}",
    "{c} in {f} on a {b} background",
    "a {b} background with a {f} {x}",
    "{f} on {b}: {c}",
    "{c} drawn in {f} over {b}",
    "{x}, {f}, {b} background",
    "a {f} {x} on {b}",
    "on a {b} background, {c} in {f}",
    "{c} written in {f} on {b}",
    "{f} {x}, {b} background",
]


def noun(char, rng):
    """The character as a caption names it: bare, or with "the letter"/"the digit"/"the number"."""
    digit = char.isdigit()
    x = char if digit or rng.random() < 0.5 else char.lower()
    kinds = ["", "the digit ", "the number ", "digit "] if digit else ["", "the letter ", "letter ", "the character "]
    return x, kinds[rng.integers(len(kinds))] + x


def caption(char, fg, bg, rng):
    """One caption of `char` (one of CLASSES) in palette colour `fg` on palette colour `bg`."""
    x, c = noun(char, rng)
    t = TEMPLATES[rng.integers(len(TEMPLATES))]
    return t.format(x=x, c=c, f=COLOR_NAMES[fg], b=COLOR_NAMES[bg])


def corpus(rng, count=4000):
    """Captions over every character and colour pair, for training the tokenizer."""
    out = []
    for _ in range(count):
        f, b = rng.choice(len(COLOR_NAMES), 2, replace=False)
        out.append(caption(CLASSES[rng.integers(len(CLASSES))], int(f), int(b), rng))
    return out


def heldout_captions(labels, colors, count, seed):
    """`count` held-out captions: (character, glyph colour, background colour) of held-out images, in order
    of a seeded permutation, worded with a seed of their own."""
    rng = np.random.default_rng([seed, 77])
    pick = rng.permutation(len(labels))[:count]
    out = []
    for i in pick:
        char, fg, bg = CLASSES[int(labels[i])], int(colors[i, 0]), int(colors[i, 1])
        out.append({"prompt": caption(char, fg, bg, rng), "char": char, "fg": COLOR_NAMES[fg], "bg": COLOR_NAMES[bg]})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="glyph folder made with --colors named")
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=1080)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    z = np.load(os.path.join(a.data, "heldout.npz"))
    if "colors" not in z.files or int(z["colors"].min()) < 0:
        raise SystemExit(f"{a.data}/heldout.npz has no palette colours: make it with make_glyphs.py --colors named")
    write_json(a.out, {"palette": [{"name": n, "rgb": list(c)} for n, c in NAMED_PALETTE],
                       "captions": heldout_captions(z["labels"], z["colors"], a.count, a.seed)})
    print(f"{a.out}: {a.count} held-out captions")


if __name__ == "__main__":
    main()
