#!/usr/bin/env python3
"""Trains the VQ tokenizer (LlamaGen VQ-16 structure, downsampling 4: 48x48 -> 12x12 tokens).

  train_vq.py [--run full|smoke|NAME] [--smoke] [--steps N] [--batch B] ...

Losses: MSE + L1 reconstruction (images in [-1, 1]) + codebook (VQ) + 0.25 x commitment, on the
L2-normalised codebook. Dead codes (unused for --restart-every steps) are re-seeded from encoder outputs
of the current batch, which keeps most of the codebook in use. Checkpoints to RUN/ckpt/vq.pt every
--save-every steps and every 5 minutes (and on SIGTERM/SIGINT); a restart resumes from it. When the
checkpoint says finished, the script only prints that and exits.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from common import (Training, batch_indices, cosine_lr, load_glyphs, save_grid_png, start_stage,  # noqa: E402
                    to_model_range, to_uint8, training_args)
from models import VQArgs, VQModel  # noqa: E402

FULL = dict(steps=3000, batch=32, lr=5e-4, warmup=200, ch=32, z_channels=64, codebook_size=1024,
            codebook_embed_dim=8, ch_mult=[1, 1, 2], save_every=500, eval_every=1000)
SMOKE = dict(steps=20, batch=4, lr=1e-3, warmup=5, ch=32, z_channels=32, codebook_size=256,
             codebook_embed_dim=8, ch_mult=[1, 1, 2], save_every=10, eval_every=20)


def parse(argv=None):
    return training_args(__doc__, FULL, SMOKE, argv, extra=lambda ap: ap.add_argument(
        "--restart-every", type=int, default=200, help="re-seed codes unused for this many steps (0: never)"))


def vq_args(a):
    return VQArgs(codebook_size=a.codebook_size, codebook_embed_dim=a.codebook_embed_dim,
                  encoder_ch_mult=list(a.ch_mult), decoder_ch_mult=list(a.ch_mult), z_channels=a.z_channels, ch=a.ch)


def evaluate(model, x_u8, torch, dev, batch=64):
    model.eval()
    se, n, used = 0.0, 0, set()
    with torch.no_grad():
        for i in range(0, len(x_u8), batch):
            x = to_model_range(x_u8[i:i + batch], dev)
            rec, _, idx = model(x)
            se += float(((to_uint8(rec).astype(np.float64) - x_u8[i:i + batch]) ** 2).sum())
            n += x_u8[i:i + batch].size
            used.update(idx.flatten().tolist())
    model.train()
    mse = se / max(1, n)
    return mse, 10 * np.log10(255.0 ** 2 / max(mse, 1e-9)), len(used)


def main(argv=None):
    a = parse(argv)
    torch, dev, rd, log = start_stage(a, "train_vq")
    margs = vq_args(a)
    torch.manual_seed(a.seed)
    model = VQModel(margs).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.0)
    step, last_used = 0, np.zeros(a.codebook_size, np.int64)
    training = Training("vq", a, log, lambda: {"model": model.state_dict(), "opt": opt.state_dict(),
                                               "vq_args": margs.config_json(), "last_used": last_used})
    ck = training.load()
    if ck is not None:
        if ck["vq_args"] != margs.config_json():
            log(f"error: {training.path} was trained with {ck['vq_args']}, not {margs.config_json()}; delete it to start over")
            sys.exit(2)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, last_used = ck["step"], ck["last_used"]
        log(f"vq: resumed at step {step}")
    x_train, _ = load_glyphs(a.data, "train")
    x_held, _ = load_glyphs(a.data, "heldout")
    x_eval = x_held[np.random.default_rng(1).permutation(len(x_held))[: (16 if a.smoke else 1024)]]
    n_params = sum(p.numel() for p in model.parameters())
    log(f"vq: {n_params / 1e6:.2f} M params, train {len(x_train)} images, device {dev}, args {vars(a)}")
    n_codes = a.codebook_size
    model.train()

    while step < a.steps:
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, a.steps, a.lr, a.warmup)
        idx = batch_indices(len(x_train), a.batch, a.seed, step)
        x = to_model_range(x_train[idx], dev)
        z = model.quant_conv(model.encoder(x))
        zq, ql, codes = model.quantize(z)
        rec = model.decode(zq)
        l2 = torch.nn.functional.mse_loss(rec, x)
        l1 = (rec - x).abs().mean()
        loss = l2 + l1 + ql["vq"] + ql["commit"]
        training.optimize(opt, loss, clip_params=model.parameters())
        step += 1
        last_used[np.unique(codes.cpu().numpy())] = step
        if a.restart_every and step % 50 == 0 and step < 0.8 * a.steps:
            dead = np.flatnonzero(step - last_used > a.restart_every)
            if len(dead):  # re-seed dead codes from random encoder outputs of this batch
                with torch.no_grad():
                    zf = torch.nn.functional.normalize(z.detach().permute(0, 2, 3, 1).reshape(-1, z.shape[1]), dim=-1)
                    pick = torch.randint(0, zf.shape[0], (len(dead),), device=dev)
                    model.quantize.embedding.weight[torch.from_numpy(dead).to(dev)] = zf[pick] + 0.01 * torch.randn(len(dead), zf.shape[1], device=dev)
                last_used[dead] = step
                if len(dead) > 0.02 * n_codes:
                    log(f"step {step}: re-seeded {len(dead)} dead codes")
        training.report(step, 25, a.batch, "img", lambda: (
            f"loss {loss.item():.4f} l2 {l2.item():.4f} l1 {l1.item():.4f} vq {ql['vq'].item():.4f} "
            f"commit {ql['commit'].item():.4f} codes/batch {len(np.unique(codes.cpu().numpy()))} "
            f"lr {opt.param_groups[0]['lr']:.2e}"))
        if step % a.eval_every == 0 or step == a.steps:
            mse, psnr, used = evaluate(model, x_eval, torch, dev)
            log(f"eval step {step}: held-out mse {mse:.2f} psnr {psnr:.2f} dB, codes used {used}/{n_codes}")
        training.tick(step)
    training.save(step, done=True)
    model.eval()
    with torch.no_grad():
        x = x_eval[:32]
        rec = to_uint8(model(to_model_range(x, dev))[0])
    h = (len(x) + 1) // 2
    save_grid_png(os.path.join(rd, "vq_recon.png"), np.concatenate([x[:h], rec[:h], x[h:], rec[h:]]), h)
    log(f"vq: finished at step {step}; reconstructions (rows: real, decoded) in {rd}/vq_recon.png")


if __name__ == "__main__":
    main()
