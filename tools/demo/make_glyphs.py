#!/usr/bin/env python3
"""Builds the glyph data set: the characters 0-9 and A-Z rendered from Debian's font packages.

  make_glyphs.py [--install-fonts] [--out DIR] [--size 48] [--variants 4] [--seed 0] [--smoke]

Every image is one character (class = its index in 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ) from one font
face, in a random glyph colour on a random background colour (two different colours of a fixed palette
with enough contrast, or any two colours with --colors continuous), scaled to 55-80 % of the image
height and shifted by up to size/16 pixels. Glyphs are drawn at 4x and box-filtered down.

Fonts: the files of the Debian packages in FONT_PACKAGES (--install-fonts runs apt-get for them),
read through `dpkg -L`, so the set does not depend on what else a machine has. A face is kept if its
cmap has all 36 characters and the 36 rendered glyphs are non-empty and distinct; faces that render
identically to an earlier one are dropped, and at most --max-styles faces per family are kept
(regular, bold, italic, bold italic first). Families are split into train and held-out by a hash of
(seed, family name), so held-out faces come from families never seen in training.

Writes DIR/train.npz and DIR/heldout.npz (images uint8 [N,size,size,3], labels uint8 [N], face int16
[N], colors int8 [N,2]: the glyph's and the background's palette index, -1 with --colors continuous),
DIR/fonts.json (every face: file, index, family, style, package, split) and DIR/preview.png.
Same packages + same arguments -> identical arrays.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CLASSES, WORK, save_grid_png, write_json  # noqa: E402

# Debian (bookworm) packages with Latin fonts that have 0-9 and A-Z. Checked with apt-cache policy.
FONT_PACKAGES = """
fonts-3270 fonts-adf-accanthis fonts-adf-baskervald fonts-adf-berenis fonts-adf-gillius fonts-adf-irianis
fonts-adf-libris fonts-adf-romande fonts-adf-switzera fonts-adf-tribun fonts-adf-universalis fonts-adf-verana
fonts-agave fonts-anonymous-pro fonts-averia-gwf fonts-averia-sans-gwf fonts-averia-serif-gwf fonts-b612
fonts-bebas-neue fonts-beteckna fonts-breip fonts-cabin fonts-cantarell fonts-cardo fonts-century-catalogue
fonts-clear-sans fonts-cmu fonts-comfortaa fonts-comic-neue fonts-courier-prime fonts-croscore
fonts-crosextra-caladea fonts-crosextra-carlito fonts-dancingscript fonts-dejavu-core fonts-dejavu-extra
fonts-dkg-handwriting fonts-dosis fonts-ebgaramond fonts-engadget fonts-eurofurence fonts-fanwood
fonts-fantasque-sans fonts-firacode fonts-freefont-ttf fonts-gnutypewriter fonts-go fonts-goudybookletter
fonts-hack fonts-hermit fonts-humor-sans fonts-inconsolata fonts-inter fonts-isabella fonts-jetbrains-mono
fonts-junction fonts-jura fonts-karla fonts-kristi fonts-lato fonts-league-spartan fonts-liberation
fonts-lindenhill fonts-linuxlibertine fonts-lobstertwo fonts-manrope fonts-national-park fonts-ocr-a
fonts-ocr-b fonts-oldstandard fonts-open-sans fonts-opendin fonts-opendyslexic fonts-osifont fonts-oxygen
fonts-paratype fonts-play fonts-prociono fonts-quattrocento fonts-quicksand fonts-roadgeek fonts-roboto-slab
fonts-roboto-unhinted fonts-sil-andika fonts-sil-charis fonts-sil-doulos fonts-sil-gentiumplus fonts-sora
fonts-stix fonts-texgyre fonts-thai-tlwg-ttf fonts-tiresias fonts-tuffy fonts-uralic fonts-urw-base35
fonts-vollkorn fonts-yanone-kaffeesatz
""".split()

# Faces whose names contain these are symbol, dingbat or math-only fonts.
DENY = ("symbol", "dingbat", "math", "ornament", "icons", "emoji", "d050000l", "standard symbols")

# Palette for --colors palette (sRGB).
PALETTE = [
    (0, 0, 0), (255, 255, 255), (220, 30, 30), (30, 160, 60), (30, 70, 200), (250, 210, 40),
    (245, 130, 20), (130, 50, 170), (40, 190, 210), (230, 60, 160), (120, 75, 40), (128, 128, 128),
    (20, 30, 90), (255, 170, 190), (0, 120, 120), (170, 220, 120),
]


def luminance(rgb):
    c = np.asarray(rgb, np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


def contrast(a, b):
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


PALETTE_PAIRS = [(f, b) for f in range(len(PALETTE)) for b in range(len(PALETTE))
                 if f != b and contrast(PALETTE[f], PALETTE[b]) >= 2.5]

# Palette for --colors named (the text-to-image data, tools/textglyphs): twelve colours a caption names.
NAMED_PALETTE = [
    ("black", (0, 0, 0)), ("white", (255, 255, 255)), ("red", (220, 30, 30)), ("green", (30, 160, 60)),
    ("blue", (30, 70, 200)), ("yellow", (250, 210, 40)), ("orange", (245, 130, 20)), ("purple", (130, 50, 170)),
    ("cyan", (40, 190, 210)), ("pink", (255, 170, 190)), ("brown", (120, 75, 40)), ("gray", (128, 128, 128)),
]
NAMED_PAIRS = [(f, b) for f in range(len(NAMED_PALETTE)) for b in range(len(NAMED_PALETTE))
               if f != b and contrast(NAMED_PALETTE[f][1], NAMED_PALETTE[b][1]) >= 2.5]


def install_fonts(log):
    missing = [p for p in FONT_PACKAGES if subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True).stdout != "install ok installed"]
    if not missing:
        log(f"fonts: all {len(FONT_PACKAGES)} packages installed")
        return
    log(f"fonts: installing {len(missing)} packages with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "apt-get"]
    r = subprocess.run(apt + ["install", "-y", "-qq", "--no-install-recommends"] + missing, env=env)
    if r.returncode != 0:  # the package lists may be missing or stale on a fresh machine
        subprocess.run(apt + ["update", "-qq"], env=env, check=True)
        subprocess.run(apt + ["install", "-y", "-qq", "--no-install-recommends"] + missing, env=env, check=True)


def package_font_files():
    files = []
    for p in FONT_PACKAGES:
        r = subprocess.run(["dpkg", "-L", p], capture_output=True, text=True)
        if r.returncode != 0:
            continue
        for line in r.stdout.split("\n"):
            if line.lower().endswith((".ttf", ".otf", ".ttc")) and os.path.isfile(line):
                files.append((os.path.realpath(line), p))
    seen, out = set(), []
    for f, p in sorted(files):
        if f not in seen:
            seen.add(f)
            out.append((f, p))
    return out


def face_names(tt):
    names = tt["name"]

    def get(*ids):
        for i in ids:
            n = names.getDebugName(i)
            if n:
                return n.strip()
        return ""
    return get(16, 1), get(17, 2) or "Regular"


STYLE_RANK = {"regular": 0, "book": 0, "roman": 0, "normal": 0, "bold": 1, "italic": 2, "oblique": 2,
              "bold italic": 3, "bold oblique": 3}


def render_master(font, ch, px):
    """The glyph's ink at `px` pixels per em, cropped to its bounding box (PIL 'L' image), or None."""
    from PIL import Image, ImageDraw
    canvas = Image.new("L", (px * 3, px * 3), 0)
    ImageDraw.Draw(canvas).text((px, px), ch, fill=255, font=font)
    box = canvas.getbbox()
    return canvas.crop(box) if box else None


def survey_faces(log, master_px, max_files=0):
    """All usable faces: list of dicts with file, index, family, style, package, masters (36 images)."""
    from fontTools.ttLib import TTCollection, TTFont
    from PIL import ImageFont
    need = [ord(c) for c in CLASSES]
    faces, seen_hashes = [], set()
    counts = {"files": 0, "no_chars": 0, "denied": 0, "bad_render": 0, "duplicate": 0}
    files = package_font_files()
    if max_files and len(files) > max_files:  # an even spread over the packages (smoke runs)
        files = files[:: -(-len(files) // max_files)]
    for path, pkg in files:
        counts["files"] += 1
        try:
            if path.lower().endswith(".ttc"):
                tts = list(TTCollection(path, lazy=True).fonts)
            else:
                tts = [TTFont(path, lazy=True)]
        except Exception as e:  # unreadable file
            log(f"skip {path}: {e}")
            continue
        for index, tt in enumerate(tts):
            family, style = face_names(tt)
            cmap = tt.getBestCmap() or {}
            if not all(c in cmap for c in need):
                counts["no_chars"] += 1
                continue
            if any(d in (family + " " + style + " " + os.path.basename(path)).lower() for d in DENY):
                counts["denied"] += 1
                continue
            try:
                font = ImageFont.truetype(path, master_px, index=index)
                masters = [render_master(font, c, master_px) for c in CLASSES]
            except Exception as e:
                log(f"skip {path}#{index}: {e}")
                continue
            if any(m is None or m.size[1] < master_px // 8 for m in masters):  # blank or tiny glyphs
                counts["bad_render"] += 1
                continue
            small = [np.asarray(m.resize((16, 16))).tobytes() for m in masters]
            if len(set(small)) < 34:  # everything drawn as the same box
                counts["bad_render"] += 1
                continue
            h = hashlib.sha256(b"".join(small)).hexdigest()
            if h in seen_hashes:
                counts["duplicate"] += 1
                continue
            seen_hashes.add(h)
            faces.append(dict(file=path, index=index, family=family, style=style, package=pkg,
                              masters=masters))
    log("fonts survey:", json.dumps(counts), f"usable faces {len(faces)}")
    return faces


def pick_styles(faces, max_styles):
    by_family = {}
    for f in faces:
        by_family.setdefault(f["family"], []).append(f)
    kept = []
    for fam in sorted(by_family):
        group = sorted(by_family[fam], key=lambda f: (STYLE_RANK.get(f["style"].lower(), 9), f["style"], f["file"], f["index"]))
        kept.extend(group[:max_styles])
    return kept


def heldout_family(seed, family, frac):
    h = hashlib.sha256(f"{seed}:{family}".encode()).digest()
    return int.from_bytes(h[:8], "little") / 2**64 < frac


def render_sample(master, size, rng, colors, k=4):
    from PIL import Image
    S = size * k
    w, h = master.size
    frac = rng.uniform(0.55, 0.80)
    scale = min(frac * S / h, 0.85 * S / w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    glyph = master.resize((nw, nh), Image.LANCZOS)
    shift = size / 16.0
    dx, dy = rng.uniform(-shift, shift, size=2) * k
    x0 = int(round((S - nw) / 2 + dx))
    y0 = int(round((S - nh) / 2 + dy))
    canvas = Image.new("L", (S, S), 0)
    canvas.paste(glyph, (x0, y0))
    m = np.asarray(canvas.reduce(k), np.float32)[..., None] / 255.0
    fi = bi = -1
    if colors == "palette":
        fi, bi = PALETTE_PAIRS[rng.integers(len(PALETTE_PAIRS))]
        fg, bg = np.array(PALETTE[fi], np.float32), np.array(PALETTE[bi], np.float32)
    elif colors == "named":
        fi, bi = NAMED_PAIRS[rng.integers(len(NAMED_PAIRS))]
        fg, bg = np.array(NAMED_PALETTE[fi][1], np.float32), np.array(NAMED_PALETTE[bi][1], np.float32)
    else:
        while True:
            fg, bg = rng.integers(0, 256, size=(2, 3))
            if contrast(fg, bg) >= 2.5:
                break
        fg, bg = fg.astype(np.float32), bg.astype(np.float32)
    img = bg + (fg - bg) * m
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), fi, bi


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(WORK, "glyphs"))
    ap.add_argument("--install-fonts", action="store_true", help="apt-get install the font packages first")
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--variants", type=int, default=4, help="images per (face, character)")
    ap.add_argument("--heldout-frac", type=float, default=0.15, help="fraction of font families held out")
    ap.add_argument("--max-styles", type=int, default=4, help="faces kept per family")
    ap.add_argument("--max-faces", type=int, default=0, help="keep only this many faces (0: all)")
    ap.add_argument("--max-files", type=int, default=0, help="look at only this many font files (0: all)")
    ap.add_argument("--colors", choices=["palette", "named", "continuous"], default="palette",
                    help="palette: 16 colours (the class-label data); named: the 12 NAMED_PALETTE colours "
                    "captions name (the text data); continuous: any two colours")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--smoke", action="store_true", help="few faces, one variant")
    args = ap.parse_args()
    if args.smoke:
        args.variants, args.max_faces, args.max_files = 1, 40, 120
    os.makedirs(args.out, exist_ok=True)
    log_f = open(os.path.join(args.out, "make_glyphs.log"), "a", buffering=1)

    def log(*p):
        line = time.strftime("%H:%M:%S ") + " ".join(str(x) for x in p)
        print(line, flush=True)
        log_f.write(line + "\n")

    t0 = time.time()
    if args.install_fonts:
        install_fonts(log)
    faces = pick_styles(survey_faces(log, master_px=128, max_files=args.max_files), args.max_styles)
    if args.max_faces and len(faces) > args.max_faces:
        pick = np.random.default_rng(args.seed).choice(len(faces), args.max_faces, replace=False)
        faces = [faces[i] for i in sorted(pick)]
    families = sorted({f["family"] for f in faces})
    for f in faces:
        f["split"] = "heldout" if heldout_family(args.seed, f["family"], args.heldout_frac) else "train"
    if args.heldout_frac > 0 and not any(f["split"] == "heldout" for f in faces):  # tiny sets: hold out one family
        last = families[-1]
        for f in faces:
            if f["family"] == last:
                f["split"] = "heldout"
    log(f"faces {len(faces)} in {len(families)} families from {len({f['package'] for f in faces})} packages;",
        f"train faces {sum(f['split'] == 'train' for f in faces)}, held-out faces {sum(f['split'] == 'heldout' for f in faces)}")

    out = {"train": ([], [], [], []), "heldout": ([], [], [], [])}
    for fi, face in enumerate(faces):
        key = hashlib.sha256(f"{face['family']}|{face['style']}|{os.path.basename(face['file'])}|{face['index']}".encode()).digest()
        rng = np.random.default_rng([args.seed, int.from_bytes(key[:8], "little")])
        imgs, labels, ids, colors = out[face["split"]]
        for ci, master in enumerate(face["masters"]):
            for _ in range(args.variants):
                img, fg, bg = render_sample(master, args.size, rng, args.colors)
                imgs.append(img)
                labels.append(ci)
                ids.append(fi)
                colors.append((fg, bg))
    meta = {"size": args.size, "classes": "".join(CLASSES), "seed": args.seed, "variants": args.variants,
            "colors": args.colors, "heldout_frac": args.heldout_frac, "max_styles": args.max_styles,
            "packages": FONT_PACKAGES,
            "faces": [{k: v for k, v in f.items() if k != "masters"} for f in faces]}
    if args.colors == "named":
        meta["palette"] = [{"name": n, "rgb": list(c)} for n, c in NAMED_PALETTE]
    for split, (imgs, labels, ids, colors) in out.items():
        x = np.stack(imgs) if imgs else np.zeros((0, args.size, args.size, 3), np.uint8)
        np.savez_compressed(os.path.join(args.out, f"{split}.npz"), images=x, labels=np.array(labels, np.uint8),
                 face=np.array(ids, np.int16), colors=np.array(colors, np.int8).reshape(-1, 2))
        meta[f"{split}_images"] = len(imgs)
        log(f"{split}: {len(imgs)} images")
    write_json(os.path.join(args.out, "fonts.json"), meta)
    # preview: 36 columns (classes) x 12 rows of training images
    x, y = np.stack(out["train"][0]), np.array(out["train"][1])
    rng = np.random.default_rng(args.seed)
    rows = [[x[rng.choice(np.flatnonzero(y == c))] for c in range(len(CLASSES))] for _ in range(12)]
    save_grid_png(os.path.join(args.out, "preview.png"), np.stack([im for r in rows for im in r]), len(CLASSES))
    log(f"done in {time.time() - t0:.1f}s -> {args.out}")


if __name__ == "__main__":
    main()
