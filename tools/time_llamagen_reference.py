#!/usr/bin/env python3
"""Times the ZipAR authors' released PyTorch LlamaGen-ZipAR code (ThisisBillhe/ZipAR on GitHub,
folder LlamaGen-ZipAR) generating a batch of class-conditional images on this CPU, for the side-by-side
with `zipar bench --batch N` in docs/performance.md ("Batched generation (many images per pass)").

    tools/.venv/bin/python tools/time_llamagen_reference.py --repo /tmp/zipar-ref/LlamaGen-ZipAR \
        --model GPT-B --image-size 256 --batch 8 --window 8 --cfg 4 --top-k 2000 --threads 2

Nothing of theirs is copied here: --repo names a checkout of their LlamaGen-ZipAR folder, which is put on
sys.path, and their modules are imported from it (`autoregressive.models.gpt.GPT_models`,
`autoregressive.models.generate_zipar.generate`, or `autoregressive.models.generate.generate` with
--window 0, their raster path). Their files are not edited.

What is built and timed, following their autoregressive/sample/sample_c2i_ddp_zipar.py:
- `GPT_models[model](vocab_size=16384, block_size=(size/16)**2, num_classes=1000, cls_token_num=1,
  model_type='c2i')`: their own constructor and initialiser (normal std 0.02), float32, CPU, `.eval()`,
  `torch.no_grad()`, `torch.set_num_threads(threads)`. Their initialiser zeroes the output head (all
  logits 0); it is redrawn with the same std 0.02 (unless --keep-zero-head), so top-k / multinomial see
  ordinary logits. Speed does not depend on the values.
- `model.zipar_window_size = window`; `generate(model, labels, grid**2, cfg_scale=cfg, cfg_interval=-1,
  temperature=1, top_k=top_k, top_p=1, sample_logits=True)`, `model.reset_zipar()` before every call
  (their sampler resets after each call: the ZipAR row state lives on the model).
- Labels: LlamaGen's sample classes [207, 360, 387, 974, 88, 979, 417, 279] (sample_c2i.py), the first
  --batch of them (cycled past 8). Seed 0.
- Tokens only: no VQ decode is built or timed.
- Warm-up: --warmup full calls (default 1) of the same batch, untimed; then --repeats timed calls
  (default 1), median reported.
- Passes: a forward pre-hook counts the model's forward calls (prefill + first row + ZipAR passes; each
  call runs the 2*batch CFG rows together). The same total is what their commented-out print in
  decode_n_tokens_zipar reports (model_forward_times + tokens_per_row).

Device: the model and labels are created on the CPU and their generate() takes its device from the
labels, so no .cuda() call is reached; `torch.backends.cuda.sdp_kernel(...)` (a context manager their
decode loops enter) is harmless on CPU, and is replaced by a no-op only if this torch lacks it (the
JSON's `patches` lists whatever was patched).

Prints one JSON line.
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_info import cpu_model  # noqa: E402

SAMPLE_CLASSES = [207, 360, 387, 974, 88, 979, 417, 279]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repo", required=True, help="path of the authors' LlamaGen-ZipAR folder")
    p.add_argument("--model", default="GPT-B")
    p.add_argument("--image-size", type=int, default=256)
    p.add_argument("--downsample", type=int, default=16)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--window", type=int, default=8, help="ZipAR window; 0 = their raster generate.py")
    p.add_argument("--cfg", type=float, default=4.0)
    p.add_argument("--top-k", type=int, default=2000)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep-zero-head", action="store_true",
                   help="keep their initialiser's all-zero output head")
    args = p.parse_args()

    repo = os.path.abspath(args.repo)
    if not os.path.isfile(os.path.join(repo, "autoregressive", "models", "generate_zipar.py")):
        sys.exit(f"{repo} does not look like LlamaGen-ZipAR (no autoregressive/models/generate_zipar.py)")
    sys.path.insert(0, repo)

    import torch

    patches = []
    if not hasattr(torch.backends.cuda, "sdp_kernel"):
        torch.backends.cuda.sdp_kernel = lambda *a, **k: contextlib.nullcontext()
        patches.append("torch.backends.cuda.sdp_kernel -> nullcontext")
    warnings.filterwarnings("ignore", category=FutureWarning)  # sdp_kernel's deprecation notice
    warnings.filterwarnings("ignore", category=UserWarning)

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    torch.manual_seed(args.seed)

    from autoregressive.models.gpt import GPT_models
    if args.window > 0:
        from autoregressive.models.generate_zipar import generate
    else:
        from autoregressive.models.generate import generate

    grid = args.image_size // args.downsample
    t0 = time.perf_counter()
    model = GPT_models[args.model](
        vocab_size=16384, block_size=grid * grid, num_classes=1000, cls_token_num=1, model_type="c2i",
    ).to(device="cpu", dtype=torch.float32)
    if not args.keep_zero_head:
        model.output.weight.data.normal_(mean=0.0, std=model.config.initializer_range)
    model.eval()
    model.zipar_window_size = args.window if args.window > 0 else model.zipar_window_size
    build_s = time.perf_counter() - t0
    params = sum(t.numel() for t in model.parameters())

    calls = [0]
    rows = [0]

    def count(_module, inputs, kwargs):
        calls[0] += 1
        named = dict(zip(("idx", "cond_idx"), inputs))
        named.update(kwargs)
        x = named.get("idx")
        x = x if x is not None else named.get("cond_idx")
        rows[0] += x.shape[0] * (x.shape[1] if x.dim() > 1 else 1)

    model.register_forward_pre_hook(count, with_kwargs=True)

    labels = torch.tensor([SAMPLE_CLASSES[i % len(SAMPLE_CLASSES)] for i in range(args.batch)],
                          device="cpu")

    def run_once():
        model.reset_zipar()
        calls[0] = 0
        rows[0] = 0
        t = time.perf_counter()
        with torch.no_grad():
            out = generate(model, labels, grid * grid, cfg_scale=args.cfg, cfg_interval=-1,
                           temperature=args.temperature, top_k=args.top_k, top_p=1.0,
                           sample_logits=True)
        dt = time.perf_counter() - t
        return dt, tuple(out.shape), calls[0], rows[0]

    load_start = os.getloadavg()[0]
    for _ in range(args.warmup):
        run_once()
    times = []
    shape = passes = row_count = None
    for _ in range(args.repeats):
        dt, shape, passes, row_count = run_once()
        times.append(dt)
    if shape != (args.batch, grid * grid):
        sys.exit(f"unexpected token tensor shape {shape}, expected {(args.batch, grid * grid)}")

    sec = statistics.median(times)
    print(json.dumps({
        "code": "LlamaGen-ZipAR (authors' PyTorch)",
        "model": args.model,
        "image_size": args.image_size,
        "grid": f"{grid}x{grid}",
        "batch": args.batch,
        "labels": labels.tolist(),
        "schedule": f"zipar w={args.window}" if args.window > 0 else "raster",
        "window": args.window,
        "cfg": args.cfg,
        "top_k": args.top_k,
        "temperature": args.temperature,
        "dtype": "float32",
        "decode": False,
        "seconds_per_batch": round(sec, 3),
        "seconds_per_image": round(sec / args.batch, 3),
        "images_per_second": round(args.batch / sec, 4),
        "times": [round(t, 3) for t in times],
        "warmup": args.warmup,
        "repeats": args.repeats,
        "passes": passes,
        "ms_per_pass": round(1000 * sec / passes, 2),
        "tokens_per_pass_per_image": round(grid * grid / passes, 3),
        "model_input_rows_per_batch": row_count,
        "parameters_m": round(params / 1e6, 1),
        "output_head": "zero (their init)" if args.keep_zero_head else "redrawn normal std 0.02",
        "build_seconds": round(build_s, 2),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": cpu_model(),
        "patches": patches,
        "load_1min": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }))


if __name__ == "__main__":
    main()
