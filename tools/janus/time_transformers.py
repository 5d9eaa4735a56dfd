#!/usr/bin/env python3
"""Times transformers' own Janus image generation on this CPU, at the Janus-Pro-1B shapes with random
weights, for the side-by-side in docs/performance.md ("Janus-Pro shapes") and `zipar bench --model
janus-pro-1b`.

    tools/.venv/bin/python tools/janus/time_transformers.py [--tokens 48] [--dtypes float32,bfloat16]

Builds `JanusForConditionalGeneration` with transformers' random initialisation: the Llama text model at
the 1B shapes (hidden 2048, 24 layers, 16/16 heads, FFN 5632, vocab 102400, max positions 16384), the
generation path at its real shapes (gen embeddings 16384 x 8, aligner 8 -> 2048 -> 2048, head 2048 -> 2048
-> 16384) and a tiny SigLIP tower (1 layer, hidden 64: image generation never runs it) whose
image_size 384 / patch 16 keep the 24 x 24 grid. The VQ decoder is not timed (nor built at full size).

A full image is 576 image tokens (about 6 minutes per dtype on 2 cores), so `vision_config.num_image_tokens`
is set to --tokens and `generation_config.max_length` to prompt + 576: transformers' generate then
allocates its static cache at the full image's 593 slots, and every step attends over the same static
length as in a full image (the attention shape stays honest; only the number of steps is cut). Each
language-model call is timestamped with a forward pre-hook; the first is the prefill. Per dtype one JSON
line: prefill seconds, per-step seconds (median, mean, first and last quarter), seconds per image token,
and the extrapolation to 576 tokens = prefill + 575 x mean step.

The prompt is a fixed 17-token sequence (BOS, 15 random ids, <begin_of_image>: the length of the HF
integration test's prompt); CFG 5, temperature 1, no top-k / top-p (Janus-Pro's defaults), do_sample=True,
torch.set_num_threads(2). transformers 5.23, torch CPU (tools/.venv).
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import transformers
from transformers import (
    GenerationConfig,
    JanusConfig,
    JanusForConditionalGeneration,
    JanusVisionConfig,
    JanusVQVAEConfig,
    LlamaConfig,
)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from machine_info import cpu_model  # noqa: E402

BOS, PAD, BOI = 100000, 100002, 100016
PROMPT_LENGTH = 17
GRID = 24


def prompt_ids(length=PROMPT_LENGTH, seed=0):
    g = torch.Generator().manual_seed(seed)
    middle = torch.randint(0, 100000, (length - 2,), generator=g).tolist()
    return [BOS] + middle + [BOI]


def build(tokens):
    text = LlamaConfig(
        vocab_size=102400, hidden_size=2048, intermediate_size=5632, num_hidden_layers=24,
        num_attention_heads=16, num_key_value_heads=16, max_position_embeddings=16384, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        pad_token_id=PAD, bos_token_id=BOS, eos_token_id=100001,
    )
    vision = JanusVisionConfig(
        hidden_size=64, num_hidden_layers=1, num_attention_heads=1, mlp_ratio=1.0, intermediate_size=64,
        image_size=GRID * 16, patch_size=16, num_image_tokens=tokens, projection_dim=2048, depth=2,
    )
    vq = JanusVQVAEConfig(
        embed_dim=8, num_embeddings=16384, latent_channels=8, base_channels=32, channel_multiplier=[1, 1],
        num_res_blocks=1, projection_dim=2048, image_token_embed_dim=2048, num_hidden_layers=2,
    )
    config = JanusConfig(text_config=text, vision_config=vision, vq_config=vq, image_token_id=100581)
    torch.manual_seed(0)
    model = JanusForConditionalGeneration(config).eval()
    return model


def generation_config(prompt_length):
    return GenerationConfig(
        bos_token_id=BOS, pad_token_id=PAD, eos_token_id=100001, guidance_scale=5.0, temperature=1.0,
        top_k=0, top_p=1.0, do_sample=True, num_return_sequences=1,
        max_length=prompt_length + GRID * GRID, generation_kwargs={"boi_token_id": BOI},
    )


def time_generate(model, ids, tokens):
    stamps = []
    hook = model.model.language_model.register_forward_pre_hook(lambda *_: stamps.append(time.perf_counter()))
    input_ids = torch.tensor([ids])
    mask = torch.ones_like(input_ids)
    torch.manual_seed(0)
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=input_ids, attention_mask=mask, generation_mode="image",
                             generation_config=generation_config(len(ids)))
    end = time.perf_counter()
    hook.remove()
    assert tuple(out.shape) == (1, tokens), out.shape
    assert len(stamps) == tokens, (len(stamps), tokens)
    # step i runs from call i to call i+1 (the last one to the end of generate): pass, head, CFG, sampling
    bounds = stamps + [end]
    durations = [b - a for a, b in zip(bounds, bounds[1:])]
    prefill, steps = durations[0], durations[1:]
    q = max(1, len(steps) // 4)
    mean = statistics.mean(steps)
    return {
        "total_seconds": end - start,
        "setup_seconds": stamps[0] - start,
        "prefill_seconds": prefill,
        "step_seconds_median": statistics.median(steps),
        "step_seconds_mean": mean,
        "step_seconds_first_quarter": statistics.mean(steps[:q]),
        "step_seconds_last_quarter": statistics.mean(steps[-q:]),
        "seconds_per_image_token": (end - start) / tokens,
        "extrapolated_seconds_576": (stamps[0] - start) + prefill + (GRID * GRID - 1) * mean,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=int, default=48, help="image tokens generated per dtype (576 = a full image)")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ids = prompt_ids()

    t = time.perf_counter()
    model = build(args.tokens)
    build_seconds = time.perf_counter() - t
    streamed = sum(p.numel() for n, p in model.named_parameters()
                   if n.startswith("model.language_model.layers") or n.startswith("model.generation_head")
                   or n.startswith("model.generation_aligner") or n == "model.language_model.norm.weight")

    for name in args.dtypes.split(","):
        dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[name]
        model = model.to(dtype)
        result = time_generate(model, ids, args.tokens)
        result.update({
            "tool": "transformers JanusForConditionalGeneration.generate(generation_mode='image')",
            "dtype": name, "shapes": "Janus-Pro-1B (random weights)", "prompt_tokens": len(ids),
            "image_tokens_timed": args.tokens, "static_cache_slots": len(ids) + GRID * GRID,
            "cfg": 5.0, "temperature": 1.0, "top_k": 0, "threads": torch.get_num_threads(),
            "streamed_parameters": streamed, "build_seconds": build_seconds,
            "transformers": transformers.__version__, "torch": torch.__version__, "cpu": cpu_model(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
