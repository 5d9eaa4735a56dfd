#!/usr/bin/env python3
"""Remakes docs/images/zipar2026.png: "ZIPAR2026" drawn by the embedded default model with raster,
zipar-reference --window 6 and zipar --window 6 (one row each, seeds 0…8), stacked with a white gap.

  python3 tools/make_readme_image.py [--zipar .build/release/zipar]

Needs only the standard library (reads and writes the PNGs itself).
"""
import argparse
import os
import struct
import subprocess
import tempfile
import zlib

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def read_png(path):
    data = open(path, "rb").read()
    pos, chunks = 8, {}
    width = height = 0
    idat = b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color == 2, "8-bit RGB expected"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), width * 3, [], bytearray(width * 3)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def write_png(path, width, rows):
    raw = b"".join(b"\x00" + r for r in rows)
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(png)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zipar", default=os.path.join(REPO, ".build", "release", "zipar"))
    a = ap.parse_args()
    out_rows, width = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for schedule in (["raster"], ["zipar-reference", "--window", "6"], ["zipar", "--window", "6"]):
            png = os.path.join(tmp, "row.png")
            subprocess.run([a.zipar, "generate", "--class-label", "ZIPAR2026", "--schedule", *schedule, "--quiet",
                            "--output", png], check=True)
            width, height, rows = read_png(png)
            if out_rows:
                out_rows += [b"\xff" * width * 3] * 4
            out_rows += rows
    target = os.path.join(REPO, "docs", "images", "zipar2026.png")
    write_png(target, width, out_rows)
    print(f"wrote {target}: {width}x{len(out_rows)}")


if __name__ == "__main__":
    main()
