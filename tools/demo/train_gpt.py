#!/usr/bin/env python3
"""Trains the class-conditional LlamaGen GPT on the VQ tokens of the glyph images.

  train_gpt.py [--run full|smoke|NAME] [--smoke] [--steps N] [--dim D --n-layer L --n-head H] ...

First encodes every train and held-out image with the finished VQ (RUN/ckpt/vq.pt) into RUN/tokens.npz
(12x12 = 144 tokens each, raster order; redone when the VQ checkpoint changes). Then trains with
next-token cross entropy, class dropout 0.1 (label replaced by the null class num_classes, for
classifier-free guidance) and gradient clipping 1.0. The default optimizer is Muon (tools/demo/muon.py)
for the layers' matrices at --muon-lr-scale x --lr and AdamW (betas 0.9/0.95, weight decay 0.05 on
matrices) for embeddings, head and norms at --lr; --optimizer adamw uses AdamW for everything. The
default recipe is one phase: 5,500 steps of 64 sequences, 10 layers, lr 5e-3 (Muon 2e-2), warmup 200 +
cosine, about an hour on a 2-core CPU. Training runs in phases: --steps, --batch, --lr, --warmup and
--n-layer take one value per phase (the shipped model's three AdamW phases: --optimizer adamw --steps
12000 11000 11000 --batch 32 64 64 --lr 1e-3 5e-4 3e-4 --warmup 200 100 200 --n-layer 6 6 10); each
phase has its own warmup + cosine learning rate and starts a fresh optimizer state from the weights the
previous phase left. One value applies to every phase; with another number of --steps than the
default's, the flags left out take the default's last phase. A phase with more layers than the one
before first deepens the model without changing what it computes (`deepen`: the trained layers keep
their order, new layers sit between them with their output projections zeroed, so each starts as the
identity).
The loss is compiled with torch.compile (--compile off for eager; eager is used when compiling fails).
Checkpoints to RUN/ckpt/gpt.pt every --save-every steps, every 5 minutes and on SIGTERM/SIGINT; a
restart resumes. Reports held-out token NLL every --eval-every steps
and writes RUN/gpt_samples.png (one column per class, CFG 3) at the end.
"""
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from common import (CLASSES, Training, batch_indices, cosine_lr, load_checkpoint, load_folder,  # noqa: E402
                    load_glyphs, save_grid_png, start_stage, to_model_range, to_uint8, training_args)
from models import GPT, GPTArgs, VQArgs, VQModel  # noqa: E402
from muon import MuonAdamW  # noqa: E402

FULL = dict(steps=[5500], batch=[64], lr=[5e-3], warmup=[200], dim=96, n_layer=[10],
            n_head=2, multiple_of=64, save_every=250, eval_every=500)
PER_PHASE = ("batch", "lr", "warmup", "n_layer")  # one value each, or one per phase (--steps)
SMOKE = dict(steps=[20, 10], batch=[8, 8], lr=[1e-3, 5e-4], warmup=[5, 2], dim=64, n_layer=[2, 3], n_head=2,
             multiple_of=64, save_every=10, eval_every=20)


def parse(argv=None):
    def extra(ap):
        ap.add_argument("--class-dropout", type=float, default=0.1)
        ap.add_argument("--weight-decay", type=float, default=0.05)
        ap.add_argument("--vq", default=None, help="exported VQ folder (config.json + model.safetensors) to "
                        "encode with instead of RUN/ckpt/vq.pt, e.g. Sources/zipar/DefaultModel/vq")
        ap.add_argument("--init", default=None, help="exported GPT folder whose weights start the run instead "
                        "of random ones (same sizes, or fewer layers: deepened): more steps for a finished model. "
                        "A checkpoint resumes first.")
        ap.add_argument("--optimizer", choices=("adamw", "muon"), default="muon",
                        help="muon: Muon for the layers' matrices, AdamW for embeddings, head and norms")
        ap.add_argument("--muon-lr-scale", type=float, default=4.0,
                        help="Muon's learning rate is this times --lr (default 4: 2e-2 at the default lr 5e-3)")
        ap.add_argument("--compile", choices=("on", "off"), default="on",
                        help="torch.compile the loss (about 2x faster on the CPU after a ~45 s compile)")
    a = training_args(__doc__, FULL, SMOKE, argv, extra)
    defaults = SMOKE if a.smoke else FULL
    phases = len(a.steps)
    for k in PER_PHASE:
        v = getattr(a, k)
        if len(v) == 1:
            setattr(a, k, v * phases)
        elif len(v) != phases and v is defaults[k]:  # another phase count: the default's last phase for each
            setattr(a, k, v[-1:] * phases)
        elif len(v) != phases:
            raise SystemExit(f"--{k.replace('_', '-')} takes one value, or one per phase ({phases}; got {len(v)})")
    if a.n_layer != sorted(a.n_layer):
        raise SystemExit(f"--n-layer must not decrease from one phase to the next (got {a.n_layer})")
    return a


def phase_at(a, step):
    """(phase index, its first step) of global step `step`."""
    start = 0
    for p, n in enumerate(a.steps):
        if step < start + n:
            return p, start
        start += n
    raise ValueError(f"step {step} is past the last phase (step {start})")


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def vq_weights_path(a, rd):
    return os.path.join(a.vq, "model.safetensors") if a.vq else os.path.join(rd, "ckpt", "vq.pt")


def load_vq(a, rd, torch, dev):
    """The VQ of --vq (exported folder) or of RUN/ckpt/vq.pt, with its checkpoint dict (done for --vq)."""
    if a.vq:
        if not os.path.exists(vq_weights_path(a, rd)):
            raise SystemExit(f"--vq {a.vq}: no model.safetensors there")
        vq, _ = load_folder(VQModel, VQArgs, a.vq, torch, dev=dev)
        return vq, {"done": True}
    ck = load_checkpoint(os.path.join(rd, "ckpt", "vq.pt"))
    if ck is None:
        raise SystemExit(f"no VQ checkpoint in {rd}/ckpt/vq.pt: run train_vq.py first")
    vq = VQModel(VQArgs(**ck["vq_args"]))
    vq.load_state_dict(ck["model"])
    return vq.to(dev).eval(), ck


def tokenize(a, rd, log, torch, dev):
    """RUN/tokens.npz: train/heldout tokens [N, grid*grid] (uint16) and labels; cached by VQ digest."""
    path = os.path.join(rd, "tokens.npz")
    digest = file_digest(vq_weights_path(a, rd))
    if os.path.exists(path):
        z = np.load(path)
        if str(z["vq_digest"]) == digest:
            return {k: z[k] for k in z.files}
        log("tokens.npz is from another VQ checkpoint: encoding again")
    vq, ck = load_vq(a, rd, torch, dev)
    if not ck.get("done"):
        log("warning: the VQ checkpoint is not finished; encoding with it anyway")
    out = {"vq_digest": np.array(digest), "codebook_size": np.array(vq.args.codebook_size)}
    t0 = time.time()
    for split in ("train", "heldout"):
        x, y = load_glyphs(a.data, split)
        toks = []
        with torch.no_grad():
            for i in range(0, len(x), 64):
                _, _, idx = vq.encode(to_model_range(x[i:i + 64], dev))
                toks.append(idx.flatten(1).cpu().numpy().astype(np.uint16))
                if (i // 64) % 200 == 0:
                    log(f"tokenize {split}: {i + len(idx)}/{len(x)} ({time.time() - t0:.0f}s)")
        out[f"{split}_tokens"] = np.concatenate(toks)
        out[f"{split}_labels"] = y.astype(np.int64)
    np.savez(path + ".tmp.npz", **out)
    os.replace(path + ".tmp.npz", path)
    used = len(np.unique(out["train_tokens"]))
    log(f"tokenized in {time.time() - t0:.0f}s: grid {out['train_tokens'].shape[1]} tokens, "
        f"{used}/{vq.args.codebook_size} codes used in train")
    return out


def gpt_args(a, vocab, block, n_classes, n_layer):
    return GPTArgs(dim=a.dim, n_layer=n_layer, n_head=a.n_head, multiple_of=a.multiple_of,
                   vocab_size=vocab, block_size=block, num_classes=n_classes, class_dropout_prob=a.class_dropout)


def config_differences(have, want):
    """The fields (other than n_layer) in which config dict `have` differs from `want`, as text."""
    return [f"{k} {have.get(k)} (run: {want[k]})" for k in want
            if k != "n_layer" and k in have and have[k] != want[k]]


def deepen(model, n_layer, torch, seed):
    """A GPT with `n_layer` layers that computes exactly what `model` does: old layer i moves to
    position i * n_layer // n_old (order kept), the new layers between them are freshly initialised
    with attention.wo and feed_forward.w2 zeroed, so each adds nothing to the residual stream until
    training moves those projections."""
    old = model.args
    if n_layer == old.n_layer:
        return model
    torch.manual_seed(seed)
    grown = GPT(GPTArgs(**{**old.__dict__, "n_layer": n_layer})).to(next(model.parameters()).device)
    keep = {i * n_layer // old.n_layer: layer for i, layer in enumerate(model.layers)}
    with torch.no_grad():
        for j, layer in enumerate(grown.layers):
            if j in keep:
                layer.load_state_dict(keep[j].state_dict())
            else:
                layer.attention.wo.weight.zero_()
                layer.feed_forward.w2.weight.zero_()
        for name in ("cls_embedding", "tok_embeddings", "norm", "output"):
            getattr(grown, name).load_state_dict(getattr(model, name).state_dict())
    return grown.train(model.training)


def init_model(margs, folder, torch, seed):
    """The exported GPT in `folder` as this run's first model: the same sizes, or fewer layers (deepened)."""
    source, cfg = load_folder(GPT, GPTArgs, folder, torch)
    diff = config_differences(cfg, margs.config_json())
    if source.args.n_layer > margs.n_layer:
        diff.append(f"n_layer {source.args.n_layer} (run: {margs.n_layer})")
    if diff:
        raise SystemExit(f"--init {folder}: config.json differs from this run: {', '.join(diff)}")
    return deepen(source, margs.n_layer, torch, seed)


def make_optimizer(model, a, dev, torch):
    """AdamW (betas 0.9/0.95, weight decay on matrices), or with --optimizer muon: Muon for the layers'
    matrices (learning rate --muon-lr-scale times --lr, the same decay per step) and AdamW for the rest."""
    named = list(model.named_parameters())
    if a.optimizer == "adamw":
        return torch.optim.AdamW([{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": a.weight_decay},
                                  {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}],
                                 lr=a.lr[0], betas=(0.9, 0.95), fused=dev.type == "cuda")
    in_layers = [n.startswith("layers.") and p.dim() == 2 for n, p in named]  # the layers' matrices: Muon
    hidden = [np_ for np_, h in zip(named, in_layers) if h]
    rest = [p for (_, p), h in zip(named, in_layers) if not h]
    qkv_splits = 3 if model.args.n_kv_head in (None, model.args.n_head) else 1  # q, k, v as 3 matrices
    muon = dict(muon=True, lr_scale=a.muon_lr_scale, weight_decay=a.weight_decay / a.muon_lr_scale)
    groups = [{"params": [p for n, p in hidden if n.endswith("wqkv.weight")], "splits": qkv_splits, **muon},
              {"params": [p for n, p in hidden if not n.endswith("wqkv.weight")], **muon},
              {"params": [p for p in rest if p.dim() >= 2], "weight_decay": a.weight_decay},
              {"params": [p for p in rest if p.dim() < 2]}]
    return MuonAdamW(groups, lr=a.lr[0])


def loss_function(model, a, torch, log):
    """(tokens, labels) -> next-token cross entropy of `model`, compiled unless --compile off."""
    def loss(t, y):
        logits = model(t, y)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1))
    if a.compile == "off":
        return loss
    compiled = torch.compile(loss)
    state = {"fn": compiled}

    def guarded(t, y):
        try:
            return state["fn"](t, y)
        except Exception as e:  # a machine without a C++ compiler, an unsupported op: train eagerly
            if state["fn"] is loss:
                raise
            log(f"gpt: torch.compile failed ({type(e).__name__}: {str(e).splitlines()[0][:200]}); training eagerly")
            state["fn"] = loss
            return loss(t, y)
    return guarded


def heldout_nll(model, toks, labels, torch, dev, n=512, batch=64):
    model.eval()
    tot, cnt = 0.0, 0
    with torch.no_grad():
        for i in range(0, min(n, len(toks)), batch):
            t = torch.from_numpy(toks[i:i + batch].astype(np.int64)).to(dev)
            y = torch.from_numpy(labels[i:i + batch]).to(dev)
            lo = model(t, y, drop_labels=False)
            tot += torch.nn.functional.cross_entropy(lo.reshape(-1, lo.shape[-1]), t.reshape(-1), reduction="sum").item()
            cnt += t.numel()
    model.train()
    return tot / max(1, cnt)


def main(argv=None):
    a = parse(argv)
    torch, dev, rd, log = start_stage(a, "train_gpt")
    data = tokenize(a, rd, log, torch, dev)
    tr, ytr = data["train_tokens"], data["train_labels"]
    ho, yho = data["heldout_tokens"], data["heldout_labels"]
    hperm = np.random.default_rng(1).permutation(len(ho))
    ho, yho = ho[hperm], yho[hperm]
    vocab, block = int(data["codebook_size"]), tr.shape[1]
    margs = gpt_args(a, vocab, block, len(CLASSES), a.n_layer[0])  # the first phase's model; later ones deepen it
    torch.manual_seed(a.seed)
    training = Training("gpt", a, log, lambda: {  # model and opt are bound below, before any save
        "model": model.state_dict(), "opt": opt.state_dict(), "gpt_args": model.args.config_json(),
        "vq_digest": str(data["vq_digest"]), "torch_rng": torch.get_rng_state()}, total=sum(a.steps))
    ck = training.load()
    if ck is not None:
        # the model the checkpoint holds (a phase boundary saves before deepening)
        diff = config_differences(ck["gpt_args"], margs.config_json())
        if diff or ck["gpt_args"]["n_layer"] not in a.n_layer or ck.get("vq_digest") != str(data["vq_digest"]):
            log(f"error: {training.path} was trained with other settings or another VQ "
                f"({', '.join(diff) or 'n_layer or VQ'}); delete it to start over")
            sys.exit(2)
        trained_with = ck["train_args"].get("optimizer", "adamw")
        if trained_with != a.optimizer:
            log(f"error: {training.path} was trained with --optimizer {trained_with}, not {a.optimizer}; "
                "delete it to start over")
            sys.exit(2)
        model = GPT(GPTArgs(**ck["gpt_args"])).to(dev)
    elif a.init:
        model = init_model(margs, a.init, torch, a.seed).to(dev)
        log(f"gpt: weights from {a.init}")
    else:
        model = GPT(margs).to(dev)
    opt = make_optimizer(model, a, dev, torch)
    step = 0
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        torch.set_rng_state(ck["torch_rng"])
        log(f"gpt: resumed at step {step} ({model.args.n_layer} layers)")
    log(f"gpt: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params, config {model.args.config_json()}, "
        f"train {len(tr)} sequences, device {dev}, args {vars(a)}")
    model.train()
    loss_of = loss_function(model, a, torch, log)
    total = sum(a.steps)
    while step < total:
        p, start = phase_at(a, step)
        if step == start and p > 0:
            if model.args.n_layer < a.n_layer[p]:
                model = deepen(model, a.n_layer[p], torch, a.seed + p)
                opt = make_optimizer(model, a, dev, torch)
                loss_of = loss_function(model, a, torch, log)
                log(f"gpt: deepened to {a.n_layer[p]} layers ({sum(q.numel() for q in model.parameters()) / 1e6:.2f} M params)")
            opt.state.clear()
            log(f"gpt: phase {p + 1} of {len(a.steps)} from step {step}: {a.steps[p]} steps x {a.batch[p]}, "
                f"lr {a.lr[p]:g}, {a.n_layer[p]} layers, fresh {a.optimizer} state")
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step - start, a.steps[p], a.lr[p], a.warmup[p])
        idx = batch_indices(len(tr), a.batch[p], a.seed + 1, step)
        t = torch.from_numpy(tr[idx].astype(np.int64)).to(dev)
        y = torch.from_numpy(ytr[idx]).to(dev)
        loss = loss_of(t, y)
        training.optimize(opt, loss, clip_params=model.parameters())
        step += 1
        training.report(step, 25, a.batch[p], "seq", lambda: f"loss {loss.item():.4f} lr {opt.param_groups[0]['lr']:.2e}")
        if step % a.eval_every == 0 or step == total:
            log(f"eval step {step}: held-out NLL {heldout_nll(model, ho, yho, torch, dev, n=64 if a.smoke else 512):.4f} nats/token")
        training.tick(step)
    training.save(step, done=True)
    # preview: 4 samples per class at CFG 3, decoded with the VQ
    model.eval()
    vq, _ = load_vq(a, rd, torch, dev)
    gen = torch.Generator(device=dev).manual_seed(0)
    labels = torch.arange(len(CLASSES), device=dev).repeat(1 if a.smoke else 4)
    toks = model.sample(labels, cfg_scale=3.0, temperature=1.0, top_k=0, generator=gen)
    g = int(round(toks.shape[1] ** 0.5))
    with torch.no_grad():
        imgs = to_uint8(vq.decode_code(toks.view(-1, g, g)))
    save_grid_png(os.path.join(rd, "gpt_samples.png"), imgs, len(CLASSES))
    log(f"gpt: finished at step {step}; samples (columns = classes {''.join(CLASSES)}, CFG 3) in {rd}/gpt_samples.png")


if __name__ == "__main__":
    main()
