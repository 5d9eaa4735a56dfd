#!/usr/bin/env python3
"""Writes released-layout LlamaGen checkpoints with random float32 weights, for load-time and memory checks.

  tools/.venv/bin/python tools/make_random_checkpoints.py OUT_DIR [--gpt GPT-B] [--seed 0]

Writes OUT_DIR/gpt.pt (a class-to-image GPT preset at 256 px) and OUT_DIR/vq.pt (VQ-16, encoder included
so the file has the released size) as torch.save({"model": state_dict}), with LlamaGen's key names. The
values are normal with std 0.02 (GPT) or 1/sqrt(fan-in) (VQ): the images are noise, only loading is
measured (`zipar load --gpt-model GPT-B --gpt-ckpt OUT_DIR/gpt.pt --vq-model VQ-16 --vq-ckpt OUT_DIR/vq.pt`).
Needs torch (tools/.venv has it). GPT-B + VQ-16 come to about 444 + 288 MB.
"""
import argparse
import os

import torch

PRESETS = {"GPT-B": (768, 12, 12), "GPT-L": (1024, 24, 16), "GPT-XL": (1280, 36, 20)}


def gpt_state(name, gen):
    dim, layers, heads = PRESETS[name]
    hidden = (2 * 4 * dim) // 3
    hidden = 256 * ((hidden + 255) // 256)
    rand = lambda *shape: torch.randn(*shape, generator=gen) * 0.02
    sd = {"cls_embedding.embedding_table.weight": rand(1001, dim), "tok_embeddings.weight": rand(16384, dim),
          "norm.weight": torch.ones(dim), "output.weight": rand(16384, dim)}
    for i in range(layers):
        p = f"layers.{i}."
        sd[p + "attention.wqkv.weight"] = rand(3 * dim, dim)
        sd[p + "attention.wo.weight"] = rand(dim, dim)
        sd[p + "feed_forward.w1.weight"] = rand(hidden, dim)
        sd[p + "feed_forward.w3.weight"] = rand(hidden, dim)
        sd[p + "feed_forward.w2.weight"] = rand(dim, hidden)
        sd[p + "attention_norm.weight"] = torch.ones(dim)
        sd[p + "ffn_norm.weight"] = torch.ones(dim)
    sd["freqs_cis"] = torch.zeros(257, dim // heads // 2, 2)  # a buffer the released files carry
    return sd


def vq_state(gen):
    sd = {}

    def conv(name, cout, cin, k):
        sd[name + ".weight"] = torch.randn(cout, cin, k, k, generator=gen) / (cin * k * k) ** 0.5
        sd[name + ".bias"] = torch.zeros(cout)

    def norm(name, c):
        sd[name + ".weight"], sd[name + ".bias"] = torch.ones(c), torch.zeros(c)

    def res(name, cin, cout):
        norm(name + ".norm1", cin); conv(name + ".conv1", cout, cin, 3)
        norm(name + ".norm2", cout); conv(name + ".conv2", cout, cout, 3)
        if cin != cout:
            conv(name + ".nin_shortcut", cout, cin, 1)

    def attn(name, c):
        norm(name + ".norm", c)
        for part in ("q", "k", "v", "proj_out"):
            conv(f"{name}.{part}", c, c, 1)

    ch, mult, z, blocks = 128, [1, 1, 2, 2, 4], 256, 3
    # encoder (ignored by the decoder, present in the released file)
    conv("encoder.conv_in", ch, 3, 3)
    width = ch
    for j, m in enumerate(mult):
        for i in range(blocks - 1):
            res(f"encoder.conv_blocks.{j}.res.{i}", width, ch * m); width = ch * m
            if j == len(mult) - 1:
                attn(f"encoder.conv_blocks.{j}.attn.{i}", width)
        if j < len(mult) - 1:
            conv(f"encoder.conv_blocks.{j}.downsample.conv", width, width, 3)
    res("encoder.mid.0", width, width); attn("encoder.mid.1", width); res("encoder.mid.2", width, width)
    norm("encoder.norm_out", width); conv("encoder.conv_out", z, width, 3)
    conv("quant_conv", 8, z, 1)
    sd["quantize.embedding.weight"] = torch.randn(16384, 8, generator=gen)
    conv("post_quant_conv", z, 8, 1)
    widths = [ch * m for m in reversed(mult)]
    conv("decoder.conv_in", widths[0], z, 3)
    res("decoder.mid.0", widths[0], widths[0]); attn("decoder.mid.1", widths[0]); res("decoder.mid.2", widths[0], widths[0])
    width = widths[0]
    for j, out in enumerate(widths):
        for i in range(blocks):
            res(f"decoder.conv_blocks.{j}.res.{i}", width, out); width = out
            if j == 0:
                attn(f"decoder.conv_blocks.{j}.attn.{i}", out)
        if j < len(widths) - 1:
            conv(f"decoder.conv_blocks.{j}.upsample.conv", out, out, 3)
    norm("decoder.norm_out", width); conv("decoder.conv_out", 3, width, 3)
    return sd


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--gpt", default="GPT-B", choices=sorted(PRESETS))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    gen = torch.Generator().manual_seed(a.seed)
    torch.save({"model": gpt_state(a.gpt, gen)}, os.path.join(a.out, "gpt.pt"))
    torch.save({"model": vq_state(gen)}, os.path.join(a.out, "vq.pt"))
    for f in ("gpt.pt", "vq.pt"):
        print(f, os.path.getsize(os.path.join(a.out, f)) / 1e6, "MB")


if __name__ == "__main__":
    main()
