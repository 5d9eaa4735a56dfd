#!/usr/bin/env python3
"""Writes Tests/ZipARTests/Fixtures/classifier/: a real glyph classifier and what PyTorch and numpy compute with it.

  tools/.venv/bin/python tools/demo/make_classifier_fixture.py [--classifier DIR] [--glyphs DIR]

--classifier (default: the shipped one, Sources/zipar/DefaultModel/classifier) is copied as is
(config.json, model.safetensors, fd_reference.safetensors). From --glyphs/heldout.npz (default the smoke
run's, tools/work/smoke/glyphs; `tools/demo/run_all.sh --smoke` makes it) one real glyph of each class is
taken (seeded) and written as glyphs.png (a 6x6 grid of 48x48 tiles, class k at tile k). Then:
  cases.safetensors   PyTorch's (models.GlyphClassifier, float32) logits [36, 36] and features [36, 128]
                      for those images
  frechet_cases.json  numpy's Frechet distances (evaluate.frechet, float64): "random", two random
                      8-dimensional Gaussians with full covariances, and "glyphs", the statistics of the
                      36 feature vectors above (a covariance of rank 35) against fd_reference; for the
                      latter also "exact": the same distance with the square root taken on the rank-35
                      subspace only (from the SVD of the centred features), which shows how much the
                      clipped round-off eigenvalues move evaluate.frechet's value.
The distances are printed too.
"""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from common import (CLASSES, REPO, WORK, load_glyphs, load_safetensors, save_grid_png, save_safetensors,  # noqa: E402
                    setup_torch, to_model_range)
from evaluate import frechet, load_folder, stats  # noqa: E402
from models import ClassifierArgs, GlyphClassifier  # noqa: E402

OUT = os.path.join(REPO, "Tests", "ZipARTests", "Fixtures", "classifier")
FILES = ("config.json", "model.safetensors", "fd_reference.safetensors")


def random_case(rng, d=8):
    """Two Gaussians with random full-rank covariances and numpy's distance between them."""
    xa, xb = rng.normal(size=(d, 2 * d)), rng.normal(size=(d, 2 * d))
    case = {"a_mu": rng.normal(size=d), "a_sigma": xa @ xa.T / (2 * d),
            "b_mu": rng.normal(size=d), "b_sigma": xb @ xb.T / (2 * d)}
    case = {k: v.tolist() for k, v in case.items()}
    case["value"] = frechet(*(np.array(case[k]) for k in ("a_mu", "a_sigma", "b_mu", "b_sigma")))
    return case


def frechet_low_rank(f, mu2, s2):
    """The Frechet distance of the statistics of the rows of f to (mu2, s2), with (S1 S2)^(1/2)'s trace
    computed on the span of the centred rows: S1 = V diag(s^2) V^T, so the eigenvalues of
    S1^(1/2) S2 S1^(1/2) are those of diag(s) V^T S2 V diag(s) and no round-off eigenvalue is clipped."""
    mu1, s1 = stats(f)
    _, sv, vt = np.linalg.svd((f - mu1) / np.sqrt(len(f) - 1), full_matrices=False)
    keep = sv > 1e-12 * sv.max()
    v, sv = vt[keep].T, sv[keep]
    w = np.linalg.eigvalsh(sv[:, None] * (v.T @ s2 @ v) * sv[None, :])
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(w, 0, None)).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classifier", default=os.path.join(REPO, "Sources", "zipar", "DefaultModel", "classifier"))
    ap.add_argument("--glyphs", default=os.path.join(WORK, "smoke", "glyphs"))
    a = ap.parse_args()
    torch = setup_torch(1)
    model, _ = load_folder(GlyphClassifier, ClassifierArgs, a.classifier, torch)
    x, y = load_glyphs(a.glyphs, "heldout")
    rng = np.random.default_rng(0)
    images = np.stack([x[rng.choice(np.flatnonzero(y == k))] for k in range(len(CLASSES))])
    with torch.no_grad():
        logits, features = model(to_model_range(images))
    os.makedirs(OUT, exist_ok=True)
    for name in FILES:
        shutil.copyfile(os.path.join(a.classifier, name), os.path.join(OUT, name))
    save_grid_png(os.path.join(OUT, "glyphs.png"), images, 6)
    save_safetensors(os.path.join(OUT, "cases.safetensors"), {"logits": logits, "features": features})
    ref = load_safetensors(os.path.join(a.classifier, "fd_reference.safetensors"))
    f64 = features.double().numpy()
    mu2, s2 = ref["mu"].astype(np.float64), ref["sigma"].astype(np.float64)
    glyphs = {"value": frechet(*stats(f64), mu2, s2), "exact": frechet_low_rank(f64, mu2, s2)}
    cases = {"random": random_case(rng), "glyphs": glyphs}
    with open(os.path.join(OUT, "frechet_cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    accuracy = float((logits.argmax(1).numpy() == np.arange(len(CLASSES))).mean())
    print(f"wrote {OUT}: {len(images)} glyphs from {a.glyphs} (classifier accuracy {accuracy:.3f}), "
          f"logits {tuple(logits.shape)}, features {tuple(features.shape)}; Frechet distance random "
          f"{cases['random']['value']!r}, glyphs vs fd_reference {glyphs['value']!r} (exact {glyphs['exact']!r})")


if __name__ == "__main__":
    main()
