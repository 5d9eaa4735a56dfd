#!/usr/bin/env python3
"""A Janus-Pro-shaped model folder with random bfloat16 weights, in deepseek-ai's release layout, to check
loading at the real size (file format, peak memory, load time) without the 4 GB download.

  tools/.venv/bin/python tools/janus/make_random_janus.py --size 1b --out /tmp/janus-pro-1b-random

Writes config.json ("multi_modality", the released language_config fields), pytorch_model.bin (torch.save
of the state dict: language_model.model.*, gen_vision_model.* (the full VQ-16 decoder and a stand-in
encoder tensor), gen_embed, gen_aligner.layers.{0,2}, gen_head.*, plus an unused vision_model tensor
and language_model.lm_head of the released sizes, which a loader must not read) and tokenizer.json (a
small byte-level BPE with Janus's special tokens, tools/janus/janus_tokenizer.py). The images are noise;
only sizes matter.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from janus_tokenizer import train_tokenizer  # noqa: E402

SIZES = {"1b": dict(hidden=2048, layers=24, heads=16, ffn=5632), "7b": dict(hidden=4096, layers=30, heads=32, ffn=11008)}
VOCAB, CODES, CODE_DIM = 102400, 16384, 8


def vq_decoder(add):
    """LlamaGen's VQ-16 decoder (ch 128, ch_mult 1,1,2,2,4, z 256, 3 res blocks per level)."""
    widths = [512, 256, 256, 128, 128]

    def conv(name, cout, cin, k):
        add(name + ".weight", (cout, cin, k, k), 0.02)
        add(name + ".bias", (cout,), 0.0)

    def norm(name, c):
        add(name + ".weight", (c,), 1.0)
        add(name + ".bias", (c,), 0.0)

    def res(name, cin, cout):
        norm(name + ".norm1", cin)
        conv(name + ".conv1", cout, cin, 3)
        norm(name + ".norm2", cout)
        conv(name + ".conv2", cout, cout, 3)
        if cin != cout:
            conv(name + ".nin_shortcut", cout, cin, 1)

    def attn(name, c):
        norm(name + ".norm", c)
        for part in ["q", "k", "v", "proj_out"]:
            conv(f"{name}.{part}", c, c, 1)

    p = "gen_vision_model."
    add(p + "quantize.embedding.weight", (CODES, CODE_DIM), 1.0)
    conv(p + "post_quant_conv", 256, CODE_DIM, 1)
    conv(p + "decoder.conv_in", widths[0], 256, 3)
    res(p + "decoder.mid.0", widths[0], widths[0])
    attn(p + "decoder.mid.1", widths[0])
    res(p + "decoder.mid.2", widths[0], widths[0])
    cin = widths[0]
    for j, w in enumerate(widths):
        for i in range(3):
            res(f"{p}decoder.conv_blocks.{j}.res.{i}", cin, w)
            cin = w
            if j == 0:
                attn(f"{p}decoder.conv_blocks.{j}.attn.{i}", w)
        if j < len(widths) - 1:
            conv(f"{p}decoder.conv_blocks.{j}.upsample.conv", w, w, 3)
    norm(p + "decoder.norm_out", cin)
    conv(p + "decoder.conv_out", 3, cin, 3)
    add(p + "encoder.conv_in.weight", (128, 3, 3, 3), 0.02)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="1b")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    s = SIZES[args.size]
    d, f = s["hidden"], s["ffn"]
    gen = torch.Generator().manual_seed(0)
    state = {}

    def add(name, shape, std):
        t = torch.full(shape, std, dtype=torch.bfloat16) if len(shape) == 1 else \
            (torch.randn(shape, generator=gen, dtype=torch.float32) * std).to(torch.bfloat16)
        state[name] = t

    lm = "language_model.model."
    add(lm + "embed_tokens.weight", (VOCAB, d), 0.02)
    for i in range(s["layers"]):
        p = f"{lm}layers.{i}."
        for name in ["q_proj", "k_proj", "v_proj", "o_proj"]:
            add(p + f"self_attn.{name}.weight", (d, d), 0.02)
        add(p + "mlp.gate_proj.weight", (f, d), 0.02)
        add(p + "mlp.up_proj.weight", (f, d), 0.02)
        add(p + "mlp.down_proj.weight", (d, f), 0.02)
        add(p + "input_layernorm.weight", (d,), 1.0)
        add(p + "post_attention_layernorm.weight", (d,), 1.0)
    add(lm + "norm.weight", (d,), 1.0)
    add("language_model.lm_head.weight", (VOCAB, d), 0.02)        # unused by image generation
    add("vision_model.vision_tower.blocks.0.mlp.fc1.weight", (4096, 1024), 0.02)  # unused stand-in
    add("gen_embed.weight", (CODES, CODE_DIM), 1.0)
    add("gen_aligner.layers.0.weight", (d, CODE_DIM), 0.02)
    add("gen_aligner.layers.0.bias", (d,), 0.0)
    add("gen_aligner.layers.2.weight", (d, d), 0.02)
    add("gen_aligner.layers.2.bias", (d,), 0.0)
    add("gen_head.output_mlp_projector.weight", (d, d), 0.02)
    add("gen_head.output_mlp_projector.bias", (d,), 0.0)
    add("gen_head.vision_head.weight", (CODES, d), 0.02)
    add("gen_head.vision_head.bias", (CODES,), 0.0)
    vq_decoder(add)

    os.makedirs(args.out, exist_ok=True)
    torch.save(state, os.path.join(args.out, "pytorch_model.bin"))
    config = {
        "architectures": ["MultiModalityCausalLM"], "model_type": "multi_modality",
        "language_config": {"hidden_size": d, "intermediate_size": f, "max_position_embeddings": 16384,
                            "model_type": "llama", "num_attention_heads": s["heads"], "num_hidden_layers": s["layers"],
                            "num_key_value_heads": s["heads"], "torch_dtype": "bfloat16", "vocab_size": VOCAB},
        "gen_vision_config": {"cls": "VQ-16", "params": {"image_token_size": CODES, "n_embed": CODE_DIM}},
        "gen_aligner_config": {"cls": "MlpProjector", "params": {"depth": 2, "input_dim": CODE_DIM, "n_embed": d,
                                                                 "projector_type": "mlp_gelu"}},
        "gen_head_config": {"cls": "vision_head", "params": {"image_token_embed": d, "image_token_size": CODES, "n_embed": d}},
    }
    with open(os.path.join(args.out, "config.json"), "w") as fh:
        json.dump(config, fh, indent=1)
    words = ["a red fox in the snow", "a portrait of a young girl", "masterpiece, film grained, best quality"]
    train_tokenizer(words * 50, 600).save(os.path.join(args.out, "tokenizer.json"))
    total = sum(t.numel() * t.element_size() for t in state.values())
    print(json.dumps({"out": args.out, "tensors": len(state), "bytes": total}))


if __name__ == "__main__":
    main()
