"""Shared helpers for the glyph demo model: paths, logging, checkpoints, safetensors, data.

Everything here is plain PyTorch/numpy; no other ML packages are needed.
"""
import json
import os
import signal
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
WORK = os.path.join(REPO, "tools", "work")

# The 36 classes, in label order: class k draws CLASSES[k].
CLASSES = list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def setup_torch(threads=2):
    import torch
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    return torch


def pick_device(name, torch):
    """'auto' is the GPU when PyTorch sees one, else the CPU; 'cpu' and 'cuda' force it."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def start_stage(a, script):
    """torch (with a.threads threads), the device, the run folder and a Log to RUN/logs/SCRIPT.log."""
    torch = setup_torch(a.threads)
    rd = run_dir(a.run)
    return torch, pick_device(a.device, torch), rd, Log(os.path.join(rd, "logs", f"{script}.log"))


def training_args(doc, full, smoke, argv=None, extra=None):
    """The command line every training script shares: --run, --smoke, --data, one flag per key of the
    FULL sizes (list values take several numbers), --seed, --threads, --device, --max-minutes; sizes
    not given come from FULL, or SMOKE with --smoke. `extra(parser)` adds a script's own flags."""
    import argparse
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default=None, help="folder under tools/work (default: full, or smoke with --smoke)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, for a quick end-to-end check")
    ap.add_argument("--data", default=None, help="glyph folder (default RUN/glyphs)")
    for k, v in full.items():
        many = isinstance(v, list)
        ap.add_argument("--" + k.replace("_", "-"), type=type(v[0]) if many else type(v), nargs="+" if many else None, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--device", default="auto", help="auto (GPU if PyTorch sees one), cpu or cuda")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop (with a checkpoint) after this long; resume later")
    if extra:
        extra(ap)
    a = ap.parse_args(argv)
    for k, v in (smoke if a.smoke else full).items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    a.run = a.run or ("smoke" if a.smoke else "full")
    a.data = a.data or os.path.join(run_dir(a.run), "glyphs")
    return a


class Training:
    """Checkpoint, resume and stop scaffolding of one training stage (RUN/ckpt/STAGE.pt).

    `payload()` returns what a checkpoint holds besides step/done/train_args; `tick(step)` after every
    step saves every `save_every` steps and every 5 minutes, and on SIGTERM/SIGINT or after
    --max-minutes saves and exits with status 3 (not finished: run_all.sh stops there)."""

    def __init__(self, stage, a, log, payload, total=None):
        self.stage, self.a, self.log, self.payload = stage, a, log, payload
        self.total = total or a.steps
        self.path = os.path.join(run_dir(a.run), "ckpt", f"{stage}.pt")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.stop = StopFlag()
        self.t_save = self.t_start = self.t_rate = time.time()
        self.seen = 0

    def optimize(self, opt, loss, clip_params=None):
        """One optimizer step on `loss` (gradients clipped to norm 1 over `clip_params` when given)."""
        import torch
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip_params is not None:
            torch.nn.utils.clip_grad_norm_(clip_params, 1.0)
        opt.step()

    def report(self, step, every, items, unit, text):
        """Counts `items` done in this step; every `every` steps (and at the last) logs `text()` with the
        rate since the previous report."""
        self.seen += items
        if step % every == 0 or step == self.total:
            rate = self.seen / max(time.time() - self.t_rate, 1e-9)
            self.log(f"step {step}/{self.total} {text()} {rate:.1f} {unit}/s")
            self.t_rate, self.seen = time.time(), 0

    def load(self):
        """The stage's checkpoint, or None; logs and exits 0 when it is already finished."""
        ck = load_checkpoint(self.path)
        if ck is not None and ck.get("done"):
            self.log(f"{self.stage}: already finished at step {ck['step']} ({self.path})")
            sys.exit(0)
        return ck

    def save(self, step, done=False):
        atomic_torch_save(dict(self.payload(), step=step, done=done, train_args=vars(self.a)), self.path)
        self.t_save = time.time()

    def tick(self, step):
        over = self.a.max_minutes and time.time() - self.t_start > self.a.max_minutes * 60
        if self.stop.stop or over:
            self.save(step)
            self.log(f"{self.stage}: stopped at step {step}; run again to resume")
            sys.exit(3)
        if step % self.a.save_every == 0 or time.time() - self.t_save > 300:
            self.save(step)


class Log:
    """Appends timestamped lines to a log file and echoes them to stdout (line buffered)."""

    def __init__(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.f = open(path, "a", buffering=1)
        self.t0 = time.time()

    def __call__(self, *parts):
        line = time.strftime("%Y-%m-%d %H:%M:%S ") + " ".join(str(p) for p in parts)
        self.f.write(line + "\n")
        print(line, flush=True)


class StopFlag:
    """SIGTERM/SIGINT set a flag so the training loop can save a checkpoint and exit cleanly."""

    def __init__(self):
        self.stop = False
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, self._handler)

    def _handler(self, signum, frame):
        self.stop = True


def atomic_torch_save(obj, path):
    import torch
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path):
    import torch
    if not os.path.exists(path):
        return None
    return torch.load(path, map_location="cpu", weights_only=False)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path):
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------- safetensors (float32 only)

def save_safetensors(path, tensors, metadata=None):
    """Writes a dict name -> float32 tensor/ndarray as safetensors (little endian, names sorted)."""
    names = sorted(tensors)
    header, blobs, offset = {}, [], 0
    for name in names:
        t = tensors[name]
        if hasattr(t, "detach"):
            t = t.detach().cpu().contiguous().numpy()
        a = np.ascontiguousarray(np.asarray(t, dtype="<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load_safetensors(path):
    """Reads a float32 safetensors file into a dict name -> ndarray."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"]).copy()
    return out


def load_folder(cls, args_cls, folder, torch, drop=(), dev="cpu"):
    """An exported model folder (config.json + model.safetensors) as `cls(args_cls(...))` in eval mode,
    strict key/shape match; returns (model, config dict). Config fields `args_cls` lacks are ignored."""
    cfg = read_json(os.path.join(folder, "config.json"))
    fields = set(args_cls.__dataclass_fields__)
    model = cls(args_cls(**{k: v for k, v in cfg.items() if k in fields and k not in drop}))
    w = load_safetensors(os.path.join(folder, "model.safetensors"))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()}, strict=True)
    return model.to(dev).eval(), cfg


# ---------------------------------------------------------------- data

def load_glyphs(data_dir, split):
    """Returns (images uint8 [N,H,W,3], labels int64 [N]) of split 'train' or 'heldout'."""
    z = np.load(os.path.join(data_dir, f"{split}.npz"))
    return z["images"], z["labels"].astype(np.int64)


def to_model_range(images_u8, device=None):
    """uint8 NHWC -> float32 NCHW in [-1, 1] (LlamaGen's VQ input range), on `device` (default CPU)."""
    import torch
    x = torch.from_numpy(np.ascontiguousarray(images_u8)).to(device).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


def to_uint8(x):
    """float NCHW in [-1, 1] (any device) -> uint8 NHWC ndarray, as torchvision's save_image rounds."""
    x = ((x.float().clamp(-1, 1) + 1) / 2 * 255 + 0.5).clamp(0, 255).to(dtype=__import__("torch").uint8)
    return x.permute(0, 2, 3, 1).contiguous().cpu().numpy()


def batch_indices(n, batch, seed, step):
    """Deterministic batch for (seed, step): resuming at any step gives the same batches."""
    rng = np.random.default_rng([seed, step])
    return rng.integers(0, n, size=batch)


def save_grid_png(path, images_u8, cols):
    """Tiles uint8 NHWC images into one PNG (Pillow)."""
    from PIL import Image
    n, h, w, c = images_u8.shape
    rows = (n + cols - 1) // cols
    grid = np.full((rows * h, cols * w, c), 255, np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        grid[r * h:(r + 1) * h, q * w:(q + 1) * w] = images_u8[i]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    Image.fromarray(grid).save(path)


def cosine_lr(step, total, base, warmup, final_frac=0.1):
    if step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    import math
    return base * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def run_dir(args_run):
    return os.path.join(WORK, args_run)


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)
