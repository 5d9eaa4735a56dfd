#!/usr/bin/env python3
"""Classifier accuracy and Frechet distance of a trained GPT over a grid of sampling settings.

  sweep_sampling.py [--run full|NAME] [--classifier DIR] [--per-class 20] [--device auto|cpu|cuda]

Loads RUN/gpt and RUN/vq (exported folders) and the classifier (default RUN/classifier) with its
fd_reference.safetensors; for CFG 1, 2, 3, 4 and (temperature, top-k) in (1, 0), (1, 20), (0.8, 20),
(0.7, 10), (0.5, 10) draws --per-class raster samples of every class (seed 0) and prints accuracy and
FD, one line each; writes RUN/sample_sweep.json. This is how the demo model's sampling defaults were chosen
(docs/demo-model.md).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from common import CLASSES, load_folder, load_safetensors, pick_device, run_dir, setup_torch, to_model_range, to_uint8  # noqa: E402
from evaluate import frechet, stats  # noqa: E402
from models import GPT, ClassifierArgs, GlyphClassifier, GPTArgs, VQArgs, VQModel  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default="full")
    ap.add_argument("--classifier", default=None)
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--device", default="auto")
    a = ap.parse_args(argv)
    torch = setup_torch(2)
    dev = pick_device(a.device, torch)
    rd = run_dir(a.run)
    folder = a.classifier or os.path.join(rd, "classifier")
    clf, _ = load_folder(GlyphClassifier, ClassifierArgs, folder, torch, dev=dev)
    vq, _ = load_folder(VQModel, VQArgs, os.path.join(rd, "vq"), torch, dev=dev)
    gpt, _ = load_folder(GPT, GPTArgs, os.path.join(rd, "gpt"), torch, dev=dev)
    ref = load_safetensors(os.path.join(folder, "fd_reference.safetensors"))
    mu, sigma = ref["mu"].astype(np.float64), ref["sigma"].astype(np.float64)
    labels = torch.arange(len(CLASSES), device=dev).repeat(a.per_class)
    grid = int(round(gpt.args.block_size ** 0.5))
    out = []
    for cfg in (1.0, 2.0, 3.0, 4.0):
        for temp, top_k in ((1.0, 0), (1.0, 20), (0.8, 20), (0.7, 10), (0.5, 10)):
            gen = torch.Generator(device=dev).manual_seed(0)
            toks = gpt.sample(labels, cfg_scale=cfg, temperature=temp, top_k=top_k, generator=gen)
            with torch.no_grad():
                imgs = to_uint8(vq.decode_code(toks.view(-1, grid, grid)))
                logits, feats = clf(to_model_range(imgs, dev))
            acc = float((logits.argmax(1) == labels).float().mean())
            fd = frechet(*stats(feats.double().cpu().numpy()), mu, sigma)
            out.append(dict(run=a.run, cfg=cfg, temp=temp, topk=top_k, acc=round(acc, 4), fd=round(fd, 1)))
            print(f"{a.run} cfg {cfg} temp {temp} topk {top_k}: acc {acc:.4f} fd {fd:.1f}", flush=True)
    with open(os.path.join(rd, "sample_sweep.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
