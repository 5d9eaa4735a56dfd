#!/usr/bin/env python3
"""Writes Tests/ZipARTests/Fixtures/classifier/: a small glyph classifier and what PyTorch computes with it.

  tools/.venv/bin/python tools/demo/make_classifier_fixture.py

The network is models.GlyphClassifier at a reduced width (channels 8, 16; fc_hidden 16; 36 classes;
48x48 input), randomly initialised with seed 0, exported as export.py exports the real one
(config.json, model.safetensors, fd_reference.safetensors from the features of the fixture images).
cases.safetensors holds 12 seeded random RGB images (uint8 values stored as float32), PyTorch's logits
[12, 36] and features [12, 16] for them, and a Frechet-distance case: two random 6-dimensional
Gaussians (fd_a_mu, fd_a_sigma, fd_b_mu, fd_b_sigma) and numpy's distance between them (fd_value, from
evaluate.frechet in float64).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from common import CLASSES, REPO, save_safetensors, setup_torch, to_model_range, write_json  # noqa: E402
from evaluate import frechet, stats  # noqa: E402
from models import ClassifierArgs, GlyphClassifier  # noqa: E402

OUT = os.path.join(REPO, "Tests", "ZipARTests", "Fixtures", "classifier")


def main():
    torch = setup_torch(1)
    torch.manual_seed(0)
    args = ClassifierArgs(image_size=48, channels=[8, 16], fc_hidden=16, num_classes=len(CLASSES))
    model = GlyphClassifier(args).eval()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(12, 48, 48, 3), dtype=np.uint8)
    images[:6] = np.repeat(np.repeat(rng.integers(0, 256, size=(6, 12, 12, 3), dtype=np.uint8), 4, 1), 4, 2)
    with torch.no_grad():
        logits, features = model(to_model_range(images))
    f64 = features.double().numpy()
    mu, sigma = stats(f64)
    cfg = dict(args.config_json(), labels="".join(CLASSES))
    write_json(os.path.join(OUT, "config.json"), cfg)
    save_safetensors(os.path.join(OUT, "model.safetensors"), model.state_dict())
    save_safetensors(os.path.join(OUT, "fd_reference.safetensors"), {"mu": mu, "sigma": sigma})
    d = 6
    xa, xb = rng.normal(size=(d, 2 * d)), rng.normal(size=(d, 2 * d))
    a_mu, b_mu = rng.normal(size=d), rng.normal(size=d)
    a_sigma, b_sigma = xa @ xa.T / (2 * d), xb @ xb.T / (2 * d)
    # the distance of the float32-rounded matrices, as the Swift test reads them
    r = lambda x: x.astype(np.float32).astype(np.float64)  # noqa: E731
    value = frechet(r(a_mu), r(a_sigma), r(b_mu), r(b_sigma))
    save_safetensors(os.path.join(OUT, "cases.safetensors"), {
        "images": images.astype(np.float32), "logits": logits, "features": features,
        "fd_a_mu": a_mu, "fd_a_sigma": a_sigma, "fd_b_mu": b_mu, "fd_b_sigma": b_sigma,
        "fd_value": np.array([value])})
    print(f"wrote {OUT}: 12 images, logits {tuple(logits.shape)}, features {tuple(features.shape)}, fd_value {value:.6f}")


if __name__ == "__main__":
    main()
