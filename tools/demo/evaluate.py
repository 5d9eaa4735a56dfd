#!/usr/bin/env python3
"""Python reference numbers for the exported models (what a Swift `zipar eval` should reproduce).

  evaluate.py [--run full|smoke|NAME] [--smoke] [--per-class N] [--cfg 1 2 3 4] [--temperature T] [--top-k K]

Loads RUN/{vq,gpt,classifier} from their safetensors (so it also checks the export), then reports
into RUN/eval.json and the log:
  - classifier accuracy on the held-out real glyphs;
  - Frechet distance (FD, on the classifier's fc1 features) between held-out real glyphs and
    (a) an equal number of real training glyphs (the floor), (b) their VQ reconstructions;
  - for each CFG scale: per-class samples from the GPT (raster order, --temperature, --top-k),
    decoded by the VQ: classifier accuracy against the requested class, and FD to the held-out set;
    a grid of them in RUN/eval_samples_cfgS.png (one column per class).
FD = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), with sample covariances (ddof 1).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from common import (CLASSES, Log, load_folder, load_glyphs, pick_device, run_dir,  # noqa: E402
                    save_grid_png, setup_torch, to_model_range, to_uint8, write_json)
from models import GPT, ClassifierArgs, GlyphClassifier, GPTArgs, VQArgs, VQModel  # noqa: E402


def frechet(mu1, s1, mu2, s2):
    def psd_sqrt(m):
        w, v = np.linalg.eigh((m + m.T) / 2)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    r1 = psd_sqrt(s1)
    w = np.linalg.eigvalsh(r1 @ s2 @ r1)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(w, 0, None)).sum())


def stats(f):
    return f.mean(0), np.cov(f, rowvar=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default=None)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--data", default=None)
    ap.add_argument("--per-class", type=int, default=None, help="GPT samples per class and CFG scale (default 20, smoke 2)")
    ap.add_argument("--cfg", type=float, nargs="+", default=None, help="CFG scales (default 1 2 3 4)")
    ap.add_argument("--temperature", type=float, default=0.7, help="sampling temperature (the demo model's default 0.7)")
    ap.add_argument("--top-k", type=int, default=10, help="top-k sampling, 0: off (the demo model's default 10)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto", help="auto (GPU if PyTorch sees one), cpu or cuda")
    a = ap.parse_args(argv)
    a.run = a.run or ("smoke" if a.smoke else "full")
    a.per_class = a.per_class or (2 if a.smoke else 20)
    a.cfg = a.cfg or ([1.0, 4.0] if a.smoke else [1.0, 2.0, 3.0, 4.0])
    rd = run_dir(a.run)
    a.data = a.data or os.path.join(rd, "glyphs")
    torch = setup_torch(2)
    dev = pick_device(a.device, torch)
    log = Log(os.path.join(rd, "logs", "evaluate.log"))
    t0 = time.time()
    clf, _ = load_folder(GlyphClassifier, ClassifierArgs, os.path.join(rd, "classifier"), torch, dev=dev)
    vq, _ = load_folder(VQModel, VQArgs, os.path.join(rd, "vq"), torch, dev=dev)
    gpt, _ = load_folder(GPT, GPTArgs, os.path.join(rd, "gpt"), torch, dev=dev)

    def run_clf(x_u8):
        logits, feats = [], []
        with torch.no_grad():
            for i in range(0, len(x_u8), 256):
                lo, f = clf(to_model_range(x_u8[i:i + 256], dev))
                logits.append(lo.cpu().numpy())
                feats.append(f.double().cpu().numpy())
        return np.concatenate(logits).argmax(1), np.concatenate(feats)

    def decode(tokens):
        g = int(round(tokens.shape[1] ** 0.5))
        out = []
        with torch.no_grad():
            for i in range(0, len(tokens), 128):
                out.append(to_uint8(vq.decode_code(tokens[i:i + 128].view(-1, g, g))))
        return np.concatenate(out)

    x_ho, y_ho = load_glyphs(a.data, "heldout")
    x_tr, y_tr = load_glyphs(a.data, "train")
    report = {"run": a.run, "heldout_images": int(len(x_ho))}
    pred, f_ho = run_clf(x_ho)
    mu_ho, s_ho = stats(f_ho)
    report["classifier_heldout_accuracy"] = float((pred == y_ho).mean())
    sub = np.random.default_rng(a.seed).choice(len(x_tr), min(len(x_tr), len(x_ho)), replace=False)
    _, f_tr = run_clf(x_tr[sub])
    report["fd_train_vs_heldout"] = frechet(*stats(f_tr), mu_ho, s_ho)
    with torch.no_grad():
        rec = np.concatenate([to_uint8(vq(to_model_range(x_ho[i:i + 128], dev))[0]) for i in range(0, len(x_ho), 128)])
    mse = float(((rec.astype(np.float64) - x_ho) ** 2).mean())
    pred_r, f_r = run_clf(rec)
    report["vq_heldout_psnr_db"] = float(10 * np.log10(255 ** 2 / max(mse, 1e-9)))
    report["vq_recon_classifier_accuracy"] = float((pred_r == y_ho).mean())
    report["fd_vq_recon_vs_heldout"] = frechet(*stats(f_r), mu_ho, s_ho)
    log(f"classifier held-out accuracy {report['classifier_heldout_accuracy']:.4f}; FD train-vs-held-out "
        f"{report['fd_train_vs_heldout']:.3f}; VQ held-out PSNR {report['vq_heldout_psnr_db']:.2f} dB, "
        f"recon accuracy {report['vq_recon_classifier_accuracy']:.4f}, FD recon {report['fd_vq_recon_vs_heldout']:.3f}")
    report["samples"] = []
    labels = torch.arange(len(CLASSES), device=dev).repeat(a.per_class)
    for s in a.cfg:
        gen = torch.Generator(device=dev).manual_seed(a.seed)
        ts = time.time()
        toks = torch.cat([gpt.sample(labels[i:i + 360], cfg_scale=s, temperature=a.temperature, top_k=a.top_k, generator=gen)
                          for i in range(0, len(labels), 360)])
        imgs = decode(toks)
        pred_s, f_s = run_clf(imgs)
        acc = float((pred_s == labels.cpu().numpy()).mean())
        fd = frechet(*stats(f_s), mu_ho, s_ho) if len(imgs) > 2 else float("nan")
        report["samples"].append({"cfg_scale": s, "temperature": a.temperature, "top_k": a.top_k, "images": int(len(imgs)), "classifier_accuracy": acc, "fd_vs_heldout": fd,
                                  "seconds": round(time.time() - ts, 1)})
        save_grid_png(os.path.join(rd, f"eval_samples_cfg{s:g}.png"), imgs[: len(CLASSES) * min(a.per_class, 8)], len(CLASSES))
        log(f"GPT samples cfg {s:g}: {len(imgs)} images, classifier accuracy {acc:.4f}, FD {fd:.3f} ({time.time() - ts:.0f}s)")
    report["seconds"] = round(time.time() - t0, 1)
    write_json(os.path.join(rd, "eval.json"), report)
    log(f"evaluate: wrote {rd}/eval.json in {report['seconds']}s")


if __name__ == "__main__":
    main()
