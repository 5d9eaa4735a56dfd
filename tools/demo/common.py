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


# ---------------------------------------------------------------- data

def load_glyphs(data_dir, split):
    """Returns (images uint8 [N,H,W,3], labels int64 [N]) of split 'train' or 'heldout'."""
    z = np.load(os.path.join(data_dir, f"{split}.npz"))
    return z["images"], z["labels"].astype(np.int64)


def to_model_range(images_u8):
    """uint8 NHWC -> float32 NCHW in [-1, 1] (LlamaGen's VQ input range)."""
    import torch
    x = torch.from_numpy(np.ascontiguousarray(images_u8)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


def to_uint8(x):
    """float NCHW in [-1, 1] -> uint8 NHWC, as torchvision's save_image rounds."""
    x = ((x.clamp(-1, 1) + 1) / 2 * 255 + 0.5).clamp(0, 255).to(dtype=__import__("torch").uint8)
    return x.permute(0, 2, 3, 1).contiguous().numpy()


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
