#!/usr/bin/env python3
# Copy of shared/conformance/check.py (the reference cases' checker), so a fresh clone can run it.
"""Conformance check: runs the `zipar` command line on reference cases and compares what it writes.

Usage: conformance_check.py --zipar PATH_TO_BINARY [--cases DIR [DIR ...]] [--only SUBSTRING]

--cases takes one or more folders; each is a case (it holds case.json) or is searched, subfolders included,
for cases. Default: the project's fixtures, Tests/ZipARTests/Fixtures/conformance, .../janus, .../lumina and
.../emu3.

Class-to-image cases (LlamaGen):
Each case folder (see README.md) holds a model pair and the outputs of the authors' released PyTorch
code for several runs. For every run this script calls

  zipar generate --gpt CASE/gpt --vq CASE/vq --class-label N --cfg-scale S --temperature 0 --seed 0
                 --schedule raster|zipar-reference [--window W]
                 --output OUT.png --tokens-out OUT.json --stats-out OUT.json
  zipar decode --vq CASE/vq --tokens OUT.json --output OUT2.png

and checks: the tokens are identical; stats.forward_passes equals the reference count; both PNGs match
the reference image (every channel value within 2 of the reference, at most 0.5% of values off by more
than 1).

Text-to-image cases (case.json "family": "janus", made by tools/janus/make_janus_cases.py from
transformers): for every run

  zipar generate --model CASE/<case.model> --prompt TEXT --cfg-scale S --temperature 0 --seed 0
                 --schedule raster|zipar-reference|zipar [--window W] [--image-size PX]
                 --output OUT.png --tokens-out OUT.json --stats-out OUT.json

(--image-size only where case.json has "image_size": the original deepseek layout), and checks the tokens
(VQ codes, raster order), forward_passes and the PNG with the same tolerance.

Lumina-mGPT cases (case.json "family": "lumina", made by tools/lumina/make_lumina_cases.py from the released
Lumina-mGPT-ZipAR code and upstream Lumina-mGPT): the same command with --image-size (the pixels the prompt
states) and --vq CASE/<case.vq> (the Chameleon VQGAN folder); tokens are VQ codes in raster order with the
end-of-line tokens left out, forward_passes as each reference counts them.

Emu3 cases (case.json "family": "emu3", made by tools/emu3/make_emu3_cases.py from transformers): the same
command with --image-size WxH and, where case.json's negative_prompt is not null, --negative-prompt TEXT;
tokens are VQ codes in raster order without the end-of-line tokens.

Needs python3 and numpy only. Prints one line per run and a closing 'N passed, N failed'.
"""
import argparse, json, os, struct, subprocess, sys, tempfile, time, zlib
import numpy as np


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, ctype, _, _, interlace = hdr
    if depth != 8 or interlace != 0 or ctype not in (0, 2, 4, 6):
        raise ValueError(f"{path}: only 8-bit non-interlaced gray/RGB/RGBA PNGs are read here")
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, dtype=np.int32)
        for x in range(stride):
            a = cur[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 0: p = 0
            elif f == 1: p = a
            elif f == 2: p = b
            elif f == 3: p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (line[x] + p) & 255
        out[y] = cur
        prev = cur
    img = out.reshape(height, width, channels)
    return img[..., :3] if channels >= 3 else np.repeat(img[..., :1], 3, axis=2)


def compare_images(got_path, want_path):
    got, want = read_png(got_path).astype(int), read_png(want_path).astype(int)
    if got.shape != want.shape:
        return f"image shape {got.shape} != reference {want.shape}"
    diff = np.abs(got - want)
    off = float((diff > 1).mean())
    if diff.max() > 2 or off > 0.005:
        return f"image differs: max channel difference {diff.max()}, {off:.2%} of values off by more than 1"
    return None


# case.json names the reference's schedulers; these are the command-line names that must reproduce them
SCHEDULES = {"raster": "raster", "zipar": "zipar-reference"}


def run(cmd, timeout):
    t = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    return p, time.time() - t


def find_cases(folders):
    """(label, folder) of every case under `folders`: a folder holding case.json is a case; others are
    searched, subfolders included, in name order."""
    found = []
    for root in folders:
        root = os.path.abspath(root)
        if os.path.isfile(os.path.join(root, "case.json")):
            found.append((os.path.basename(root), root))
            continue
        if not os.path.isdir(root):
            print(f"warning: {root} is not a folder", file=sys.stderr)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            if "case.json" in filenames:
                found.append((os.path.relpath(dirpath, os.path.dirname(root)), dirpath))
                dirnames[:] = []  # a case's own subfolders (model/, gpt/, vq/) hold no cases
    return found


def check_outputs(out, case_dir, r, problems):
    """Compares tokens, forward_passes and the generated PNG of one run with the reference."""
    tok = json.load(open(out + ".tokens.json"))
    tokens = tok["tokens"] if isinstance(tok, dict) else tok
    if list(tokens) != r["tokens"]:
        first = next((i for i, (x, y) in enumerate(zip(tokens, r["tokens"])) if x != y), min(len(tokens), len(r["tokens"])))
        problems.append(f"tokens differ from the reference from raster index {first} (got {len(tokens)} tokens)")
    stats = json.load(open(out + ".stats.json"))
    if stats.get("forward_passes") != r["forward_passes"]:
        problems.append(f"forward_passes {stats.get('forward_passes')} != reference {r['forward_passes']}")
    bad = compare_images(out + ".png", os.path.join(case_dir, r["image"]))
    if bad:
        problems.append("generate: " + bad)


def run_c2i(a, case, case_dir, r, out, problems):
    cmd = [a.zipar, "generate", "--gpt", os.path.join(case_dir, "gpt"), "--vq", os.path.join(case_dir, "vq"),
           "--class-label", str(case["class_label"]), "--cfg-scale", str(r["cfg_scale"]),
           "--temperature", "0", "--seed", "0", "--schedule", SCHEDULES[r["scheduler"]],
           "--output", out + ".png", "--tokens-out", out + ".tokens.json", "--stats-out", out + ".stats.json"]
    if r["scheduler"] != "raster":
        cmd += ["--window", str(r["window"])]
    p, secs = run(cmd, a.timeout)
    if p.returncode != 0:
        problems.append(f"exit {p.returncode}: {(p.stderr or p.stdout).strip()[-300:]}")
        return
    check_outputs(out, case_dir, r, problems)
    d, _ = run([a.zipar, "decode", "--vq", os.path.join(case_dir, "vq"), "--tokens", out + ".tokens.json",
                "--output", out + ".decoded.png"], a.timeout)
    if d.returncode != 0:
        problems.append(f"decode exit {d.returncode}: {(d.stderr or d.stdout).strip()[-300:]}")
    else:
        bad = compare_images(out + ".decoded.png", os.path.join(case_dir, r["image"]))
        if bad:
            problems.append("decode: " + bad)


def run_text(a, case, case_dir, r, out, problems):
    """A text-to-image case (Janus, Lumina-mGPT, Emu3): schedule names in case.json are the command line's own."""
    cmd = [a.zipar, "generate", "--model", os.path.join(case_dir, case.get("model", "model")),
           "--prompt", case["prompt"], "--cfg-scale", str(r["cfg_scale"]), "--temperature", "0", "--seed", "0",
           "--schedule", r["schedule"]]
    if r["schedule"] != "raster":
        cmd += ["--window", str(r["window"])]
    if "image_size" in case:
        cmd += ["--image-size", str(case["image_size"])]
    if "vq" in case:
        cmd += ["--vq", os.path.join(case_dir, case["vq"])]
    if case.get("negative_prompt") is not None:
        cmd += ["--negative-prompt", case["negative_prompt"]]
    cmd += ["--output", out + ".png", "--tokens-out", out + ".tokens.json", "--stats-out", out + ".stats.json"]
    p, secs = run(cmd, a.timeout)
    if p.returncode != 0:
        problems.append(f"exit {p.returncode}: {(p.stderr or p.stdout).strip()[-300:]}")
        return
    check_outputs(out, case_dir, r, problems)


TEXT_FAMILIES = {"janus", "lumina", "emu3"}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    fixtures = os.path.join(here, "..", "Tests", "ZipARTests", "Fixtures")
    defaults = [d for d in (os.path.join(here, "cases"), os.path.join(fixtures, "conformance"),
                            os.path.join(fixtures, "janus"), os.path.join(fixtures, "lumina"),
                            os.path.join(fixtures, "emu3")) if os.path.isdir(d)]
    ap = argparse.ArgumentParser()
    ap.add_argument("--zipar", required=True, help="path to the built zipar executable")
    ap.add_argument("--cases", nargs="+", action="extend", default=None,
                    help="case folders, or folders searched (subfolders too) for cases; may repeat")
    ap.add_argument("--only", default="")
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    passed = failed = 0
    work = tempfile.mkdtemp(prefix="zipar-conformance-")
    for name, case_dir in find_cases(a.cases or defaults):
        if a.only not in name:
            continue
        case = json.load(open(os.path.join(case_dir, "case.json")))
        family = case.get("family", "llamagen-c2i")
        for r in case["runs"]:
            if family in TEXT_FAMILIES:
                key = f"{r['schedule']}_w{r['window']}_cfg{r['cfg_scale']}"
            else:
                key = f"{r['scheduler']}_w{r['window']}_cfg{r['cfg_scale']}"
            label = f"{name}/{key}"
            out = os.path.join(work, f"{name.replace(os.sep, '_')}-{key}")
            problems = []
            try:
                if family in TEXT_FAMILIES:
                    run_text(a, case, case_dir, r, out, problems)
                elif family == "llamagen-c2i":
                    run_c2i(a, case, case_dir, r, out, problems)
                else:
                    problems.append(f"unknown family '{family}'")
            except Exception as e:  # a crash of this script's own reading counts against the run
                problems.append(f"{type(e).__name__}: {e}")
            if problems:
                failed += 1
                print(f"FAIL {label}: " + "; ".join(problems), flush=True)
            else:
                passed += 1
                print(f"ok   {label}", flush=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
