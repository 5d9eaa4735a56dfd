#!/usr/bin/env python3
"""Trains the shipped text-to-image glyph model: a small Janus (transformers' JanusForConditionalGeneration
layout) that draws the character and colours a caption names.

  train_text.py [--run text|text-smoke|NAME] [--smoke] [--steps N] [--batch B] ...

Reads RUN/glyphs (tools/demo/make_glyphs.py --colors named). Stages, each skipped when its output exists:
1. RUN/tokenizer/tokenizer.json: a byte-level BPE with Janus's pre-tokenizer, specials and role tokens
   (tools/janus/janus_tokenizer.py), trained on captions inside Janus's generation template.
2. RUN/text_tokens.npz: every image's 12x12 VQ codes from the shipped glyph VQ (--vq, default
   Sources/zipar/DefaultModel/vq: the class-label model's tokenizer, reused).
3. RUN/ckpt/text.pt: the model (tools/textglyphs/tiny_janus.py). Every step draws a fresh caption per
   image (tools/textglyphs/captions.py), templates it as Janus does ("<|User|>: {caption}\n\n<|Assistant|>:"
   + "<begin_of_image>", with BOS), and with probability --cfg-dropout replaces every prompt token but
   BOS and <begin_of_image> by the pad token (the unconditional row Janus feeds for CFG). Loss: next-code
   cross entropy over the 144 codes. Muon (tools/demo/muon.py) for the layers' matrices, AdamW for the
   rest, warmup + cosine, gradient clipping 1.0, torch.compile'd loss. Checkpoints every --save-every
   steps, every 5 minutes and on SIGTERM/SIGINT; a restart resumes (same batches: they are a function
   of (seed, step)).
Then tools/textglyphs/export_text.py writes the transformers folder.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "demo"))
sys.path.insert(0, os.path.join(REPO, "tools", "janus"))
sys.path.insert(0, HERE)
from captions import caption, corpus  # noqa: E402
from common import (CLASSES, Training, batch_indices, cosine_lr, load_folder, start_stage, to_model_range,  # noqa: E402
                    training_args)
from janus_tokenizer import BOS, PAD, special_ids, train_tokenizer  # noqa: E402
from muon import MuonAdamW  # noqa: E402
from tiny_janus import TinyJanus, TinyJanusArgs  # noqa: E402

BOI = "<begin_of_image>"
# Prompt positions of a training batch (left padding): the templated captions take 12 to 19 tokens.
PROMPT_SLOTS = 20
FULL = dict(steps=3300, batch=64, lr=5e-3, warmup=200, hidden=96, layers=10, heads=2, ffn=256, vocab=400,
            save_every=250, eval_every=500)
SMOKE = dict(steps=30, batch=8, lr=3e-3, warmup=5, hidden=32, layers=2, heads=2, ffn=64, vocab=300,
             save_every=10, eval_every=15)


def parse(argv=None):
    def extra(ap):
        ap.add_argument("--cfg-dropout", type=float, default=0.1)
        ap.add_argument("--weight-decay", type=float, default=0.05)
        ap.add_argument("--muon-lr-scale", type=float, default=4.0)
        ap.add_argument("--vq", default=os.path.join(REPO, "Sources", "zipar", "DefaultModel", "vq"))
        ap.add_argument("--compile", choices=("on", "off"), default="on")
    a = training_args(__doc__, FULL, SMOKE, argv, extra)
    if a.run in ("full", "smoke"):  # this model's own run folders
        a.run = "text-smoke" if a.smoke else "text"
        a.data = os.path.join(REPO, "tools", "work", a.run, "glyphs")
    return a


def template(text):
    """Janus's generation prompt (deepseek SFT template, no system prompt) for caption `text`."""
    return "<|User|>: " + text.strip() + "\n\n<|Assistant|>:" + BOI


def make_tokenizer(a, rd, log):
    from tokenizers import Tokenizer
    path = os.path.join(rd, "tokenizer", "tokenizer.json")
    if os.path.exists(path):
        return Tokenizer.from_file(path)
    rng = np.random.default_rng([a.seed, 11])
    tok = train_tokenizer([template(c) for c in corpus(rng)], a.vocab)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tok.save(path)
    log(f"tokenizer: {tok.get_vocab_size()} tokens ({tok.get_vocab_size(with_added_tokens=False)} trained) -> {path}")
    return tok


def encode_images(a, rd, log, torch, dev):
    """RUN/text_tokens.npz: codes [N, 144] (uint16), labels, colours of both splits."""
    path = os.path.join(rd, "text_tokens.npz")
    if os.path.exists(path):
        z = np.load(path)
        return {k: z[k] for k in z.files}
    from models import VQArgs, VQModel
    vq, _ = load_folder(VQModel, VQArgs, a.vq, torch, dev=dev)
    out = {"codebook_size": np.array(vq.args.codebook_size)}
    for split in ("train", "heldout"):
        z = np.load(os.path.join(a.data, f"{split}.npz"))
        if "colors" not in z.files or (len(z["colors"]) and int(z["colors"].min()) < 0):
            raise SystemExit(f"{a.data}/{split}.npz has no palette colours: make it with make_glyphs.py --colors named")
        x, toks = z["images"], []
        with torch.no_grad():
            for i in range(0, len(x), 256):
                toks.append(vq.encode(to_model_range(x[i:i + 256], dev))[2].flatten(1).cpu().numpy().astype(np.uint16))
                if i % (256 * 40) == 0:
                    log(f"encode {split}: {i + len(toks[-1])}/{len(x)}")
        out[f"{split}_codes"] = np.concatenate(toks)
        out[f"{split}_labels"] = z["labels"].astype(np.int64)
        out[f"{split}_colors"] = z["colors"].astype(np.int64)
        log(f"encoded {split}: {len(x)} images")
    np.savez(path + ".tmp.npz", **out)
    os.replace(path + ".tmp.npz", path)
    return out


class Prompts:
    """Prompt batches left-padded to PROMPT_SLOTS (or the longest row): a fresh caption per image, CFG
    dropout, as a function of (seed, step)."""

    def __init__(self, tok, a):
        self.tok, self.a = tok, a
        ids = special_ids(tok)
        self.bos, self.pad, self.boi = ids[BOS], ids[PAD], ids[BOI]

    def batch(self, labels, colors, seed, step, dropout):
        rng = np.random.default_rng([seed, 5, step])
        rows = []
        for y, (f, b) in zip(labels, colors):
            ids = self.tok.encode(template(caption(CLASSES[int(y)], int(f), int(b), rng))).ids
            assert ids[0] == self.bos and ids[-1] == self.boi, ids
            if rng.random() < dropout:
                ids = [ids[0]] + [self.pad] * (len(ids) - 2) + [ids[-1]]
            rows.append(ids)
        P = max(PROMPT_SLOTS, max(map(len, rows)))  # one shape for every batch: torch.compile compiles once
        prompt = np.full((len(rows), P), self.pad, np.int64)
        keep = np.zeros((len(rows), P), bool)
        for i, r in enumerate(rows):
            prompt[i, P - len(r):] = r
            keep[i, P - len(r):] = True
        return prompt, keep


def make_optimizer(model, a):
    named = list(model.named_parameters())
    hidden = [p for n, p in named if n.startswith("language_model.layers.") and p.dim() == 2]
    rest = [p for n, p in named if not (n.startswith("language_model.layers.") and p.dim() == 2)]
    muon = dict(muon=True, lr_scale=a.muon_lr_scale, weight_decay=a.weight_decay / a.muon_lr_scale)
    return MuonAdamW([{"params": hidden, **muon},
                      {"params": [p for p in rest if p.dim() >= 2], "weight_decay": a.weight_decay},
                      {"params": [p for p in rest if p.dim() < 2]}], lr=a.lr)


def model_args(a, tok, codes):
    return TinyJanusArgs(vocab_size=tok.get_vocab_size(), hidden_size=a.hidden, intermediate_size=a.ffn,
                         num_hidden_layers=a.layers, num_attention_heads=a.heads, codes=codes)


def main(argv=None):
    a = parse(argv)
    torch, dev, rd, log = start_stage(a, "train_text")
    tok = make_tokenizer(a, rd, log)
    data = encode_images(a, rd, log, torch, dev)
    prompts = Prompts(tok, a)
    margs = model_args(a, tok, int(data["codebook_size"]))
    torch.manual_seed(a.seed)
    model = TinyJanus(margs).to(dev)
    opt = make_optimizer(model, a)
    training = Training("text", a, log, lambda: {"model": model.state_dict(), "opt": opt.state_dict(),
                                                  "model_args": vars(margs), "torch_rng": torch.get_rng_state()})
    ck = training.load()
    step = 0
    if ck is not None:
        if ck["model_args"] != vars(margs):
            raise SystemExit(f"{training.path} was trained with {ck['model_args']}; delete it to start over")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        torch.set_rng_state(ck["torch_rng"])
        step = ck["step"]
        log(f"text: resumed at step {step}")
    log(f"text: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params, {vars(margs)}, "
        f"train {len(data['train_codes'])} images, args {vars(a)}")

    def loss_fn(prompt, keep, codes):
        logits = model(prompt, keep, codes)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), codes.reshape(-1))
    loss_of = torch.compile(loss_fn) if a.compile == "on" else loss_fn

    def tensors(split, idx, seed, step, dropout):
        p, k = prompts.batch(data[f"{split}_labels"][idx], data[f"{split}_colors"][idx], seed, step, dropout)
        return (torch.from_numpy(p).to(dev), torch.from_numpy(k).to(dev),
                torch.from_numpy(data[f"{split}_codes"][idx].astype(np.int64)).to(dev))

    def heldout_nll(n=512):
        model.eval()
        tot, cnt = 0.0, 0
        with torch.no_grad():
            for i in range(0, min(n, len(data["heldout_codes"])), 64):
                idx = np.arange(i, min(i + 64, n, len(data["heldout_codes"])))
                lo = loss_fn(*tensors("heldout", idx, a.seed + 99, i, 0.0))
                tot, cnt = tot + lo.item() * len(idx), cnt + len(idx)
        model.train()
        return tot / max(cnt, 1)

    model.train()
    while step < a.steps:
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, a.steps, a.lr, a.warmup)
        idx = batch_indices(len(data["train_codes"]), a.batch, a.seed + 1, step)
        loss = loss_of(*tensors("train", idx, a.seed, step, a.cfg_dropout))
        training.optimize(opt, loss, clip_params=model.parameters())
        step += 1
        training.report(step, 25, a.batch, "img", lambda: f"loss {loss.item():.4f} lr {opt.param_groups[0]['lr']:.2e}")
        if step % a.eval_every == 0 or step == a.steps:
            log(f"eval step {step}: held-out NLL {heldout_nll(64 if a.smoke else 512):.4f} nats/code")
        training.tick(step)
    training.save(step, done=True)
    log(f"text: finished at step {step} -> {training.path}")


if __name__ == "__main__":
    main()
