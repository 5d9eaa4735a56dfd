#!/usr/bin/env python3
"""Trains the glyph classifier (models.GlyphClassifier) on the real training glyphs.

  train_classifier.py [--run full|smoke|NAME] [--smoke] [--steps N] ...

Cross entropy, Adam with warmup + cosine learning rate; augmentation: random shifts of up to 2 pixels
(edge padding), so it does not depend on exact centring. Reports held-out accuracy (faces of font
families never seen in training). Checkpoints to RUN/ckpt/classifier.pt (resumable like the others).
Its fc1 features (after ReLU) are what the Frechet distance uses (see evaluate.py / export.py).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from common import (CLASSES, Log, StopFlag, atomic_torch_save, batch_indices, cosine_lr,  # noqa: E402
                    load_checkpoint, load_glyphs, run_dir, setup_torch, to_model_range)
from models import ClassifierArgs, GlyphClassifier  # noqa: E402

FULL = dict(steps=1500, batch=128, lr=2e-3, warmup=100, save_every=250, eval_every=500)
SMOKE = dict(steps=60, batch=32, lr=2e-3, warmup=5, save_every=20, eval_every=60)


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default=None)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--data", default=None)
    for k, v in FULL.items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    base = SMOKE if a.smoke else FULL
    for k, v in base.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    a.run = a.run or ("smoke" if a.smoke else "full")
    a.data = a.data or os.path.join(run_dir(a.run), "glyphs")
    return a


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


def accuracy(model, x, y, torch, batch=256):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits, _ = model(to_model_range(x[i:i + batch]))
            correct += int((logits.argmax(1).numpy() == y[i:i + batch]).sum())
    model.train()
    return correct / max(1, len(x))


def main(argv=None):
    a = parse(argv)
    torch = setup_torch(a.threads)
    rd = run_dir(a.run)
    log = Log(os.path.join(rd, "logs", "train_classifier.log"))
    ck_path = os.path.join(rd, "ckpt", "classifier.pt")
    os.makedirs(os.path.dirname(ck_path), exist_ok=True)
    ck = load_checkpoint(ck_path)
    if ck is not None and ck.get("done"):
        log(f"classifier: already finished at step {ck['step']}, held-out accuracy {ck.get('heldout_accuracy')}")
        return
    x_tr, y_tr = load_glyphs(a.data, "train")
    x_ho, y_ho = load_glyphs(a.data, "heldout")
    margs = ClassifierArgs(image_size=x_tr.shape[1], num_classes=len(CLASSES))
    torch.manual_seed(a.seed)
    model = GlyphClassifier(margs)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    step = 0
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        log(f"classifier: resumed at step {step}")
    log(f"classifier: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params, train {len(x_tr)}, "
        f"held-out {len(x_ho)}, args {vars(a)}")
    stop = StopFlag()
    t0, t_save, seen = time.time(), time.time(), 0
    acc = None

    def save(done=False):
        atomic_torch_save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "done": done,
                           "classifier_args": margs.config_json(), "train_args": vars(a),
                           "heldout_accuracy": acc}, ck_path)

    model.train()
    while step < a.steps:
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, a.steps, a.lr, a.warmup, final_frac=0.02)
        idx = batch_indices(len(x_tr), a.batch, a.seed + 2, step)
        rng = np.random.default_rng([a.seed + 3, step])
        x = to_model_range(shift_batch(x_tr[idx], rng))
        y = torch.from_numpy(y_tr[idx])
        logits, _ = model(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        seen += a.batch
        if step % 50 == 0 or step == a.steps:
            dt = time.time() - t0
            log(f"step {step}/{a.steps} loss {loss.item():.4f} batch acc {(logits.argmax(1) == y).float().mean().item():.3f} "
                f"{seen / max(dt, 1e-9):.0f} img/s")
            t0, seen = time.time(), 0
        if step % a.eval_every == 0 or step == a.steps:
            acc = accuracy(model, x_ho, y_ho, torch)
            log(f"eval step {step}: held-out accuracy {acc:.4f} ({len(x_ho)} images)")
        if step % a.save_every == 0 or time.time() - t_save > 300 or stop.stop:
            save()
            t_save = time.time()
        if stop.stop:
            log(f"classifier: stopped at step {step}; run again to resume")
            sys.exit(3)  # not finished: run_all.sh must not go on
    save(done=True)
    log(f"classifier: finished at step {step}, held-out accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
