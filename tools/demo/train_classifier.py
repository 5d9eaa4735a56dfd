#!/usr/bin/env python3
"""Trains the glyph classifier (models.GlyphClassifier) on the real training glyphs.

  train_classifier.py [--run full|smoke|NAME] [--smoke] [--steps N] ...

Cross entropy, Adam with warmup + cosine learning rate; augmentation: random shifts of up to 2 pixels
(edge padding), so it does not depend on exact centring. Reports held-out accuracy (faces of font
families never seen in training). Checkpoints to RUN/ckpt/classifier.pt (resumable like the others).
Its fc1 features (after ReLU) are what the Frechet distance uses (see evaluate.py / export.py).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from common import (CLASSES, Training, batch_indices, cosine_lr, load_glyphs, start_stage,  # noqa: E402
                    to_model_range, training_args)
from models import ClassifierArgs, GlyphClassifier  # noqa: E402

FULL = dict(steps=1500, batch=128, lr=2e-3, warmup=100, save_every=250, eval_every=500)
SMOKE = dict(steps=60, batch=32, lr=2e-3, warmup=5, save_every=20, eval_every=60)


def parse(argv=None):
    return training_args(__doc__, FULL, SMOKE, argv)


def shift_batch(x, rng, max_shift=2):
    """uint8 NHWC: each image moved by up to max_shift pixels, edges repeated."""
    n, h, w, _ = x.shape
    p = max_shift
    padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="edge")
    out = np.empty_like(x)
    dx, dy = rng.integers(0, 2 * p + 1, size=(2, n))
    for i in range(n):
        out[i] = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    return out


def accuracy(model, x, y, torch, dev, batch=256):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits, _ = model(to_model_range(x[i:i + batch], dev))
            correct += int((logits.argmax(1).cpu().numpy() == y[i:i + batch]).sum())
    model.train()
    return correct / max(1, len(x))


def main(argv=None):
    a = parse(argv)
    torch, dev, rd, log = start_stage(a, "train_classifier")
    x_tr, y_tr = load_glyphs(a.data, "train")
    x_ho, y_ho = load_glyphs(a.data, "heldout")
    margs = ClassifierArgs(image_size=x_tr.shape[1], num_classes=len(CLASSES))
    torch.manual_seed(a.seed)
    model = GlyphClassifier(margs).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    acc = None
    training = Training("classifier", a, log, lambda: {
        "model": model.state_dict(), "opt": opt.state_dict(), "classifier_args": margs.config_json(),
        "heldout_accuracy": acc})
    ck = training.load()
    step = 0
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        log(f"classifier: resumed at step {step}")
    log(f"classifier: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params, train {len(x_tr)}, "
        f"held-out {len(x_ho)}, device {dev}, args {vars(a)}")
    model.train()
    while step < a.steps:
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, a.steps, a.lr, a.warmup, final_frac=0.02)
        idx = batch_indices(len(x_tr), a.batch, a.seed + 2, step)
        rng = np.random.default_rng([a.seed + 3, step])
        x = to_model_range(shift_batch(x_tr[idx], rng), dev)
        y = torch.from_numpy(y_tr[idx]).to(dev)
        logits, _ = model(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
        training.optimize(opt, loss)
        step += 1
        training.report(step, 50, a.batch, "img", lambda: f"loss {loss.item():.4f} "
                        f"batch acc {(logits.argmax(1) == y).float().mean().item():.3f}")
        if step % a.eval_every == 0 or step == a.steps:
            acc = accuracy(model, x_ho, y_ho, torch, dev)
            log(f"eval step {step}: held-out accuracy {acc:.4f} ({len(x_ho)} images)")
        training.tick(step)
    training.save(step, done=True)
    log(f"classifier: finished at step {step}, held-out accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
