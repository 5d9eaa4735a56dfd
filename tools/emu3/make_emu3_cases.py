#!/usr/bin/env python3
"""Emu3-Gen conformance cases from transformers' own Emu3 (`Emu3ForConditionalGeneration`), on the CPU.

Run (from the repository root; about a minute):

    nice -n 10 tools/.venv/bin/python tools/emu3/make_emu3_cases.py --out Tests/ZipARTests/Fixtures/emu3

What is made (OUT = the --out folder), one folder per case:
- OUT/<case>/model/: a tiny random Emu3ForConditionalGeneration (save_pretrained: config.json with
  text_config, vq_config and vocabulary_map; model.safetensors, float32) and its tokenizer.json: a GPT-2
  byte-level BPE (pre-tokenizer ByteLevel with the GPT-2 regex, as transformers' convert_emu3_weights_to_hf
  writes it) trained on a few prompts, then Emu3's specials (<|endoftext|>, <|extra_200|> EOL,
  <|extra_201|> EOF, <|extra_203|> BOS, <|extra_204|> EOS, <|image token|>, <|image start|>,
  <|image end|>, <image>) and the visual tokens <|visual token NNNNNN|> at consecutive ids. The VQ
  encoder is left out (see `slim_weights`); one case stores the weights under the newer key layout.
- OUT/<case>/case.json: prompt, negative_prompt (null: Emu3's default), image_size ("WxH" pixels),
  height, width (tokens), input_ids and
  negative_input_ids (BOS + text + <|image start|> + "H*W" + <|image token|>), and runs
  {schedule, window, cfg_scale, tokens (VQ codes, raster order, EOL left out), forward_passes,
  min_greedy_margin}.
- OUT/<case>/expected.safetensors: per run "<key>_cond_logits" [H*W, codes] (and "<key>_uncond_logits"
  with guidance): each cell's raw logits at the visual-token ids from the pass that predicts it; and
  "<key>_image" [3, H·f, W·f]: transformers' `decode_image_tokens` (all frames decoded, frame 0 returned).
- OUT/<case>/<key>.png: that image through Emu3ImageProcessor.postprocess (mean = std = 0.5, as the
  case's preprocessor_config.json says). The cases vary the VQ widths, levels, attention levels, residual
  blocks and temporal_downsample_factor (4, 1, 2); BatchNorm running statistics are random too.

References:
- raster tokens: transformers' `generate(prefix_allowed_tokens_fn=…, negative_prompt_ids=…,
  guidance_scale=…, do_sample=False)` (UnbatchedClassifierFreeGuidanceLogitsProcessor: log-softmax guidance
  with the negative prompt as its own sequence and cache); the prefix function allows visual tokens inside
  a row, EOL after every W, then EOF, EOI, EOS.
- every schedule's per-pass logits and the zipar tokens: the same model called once per pass on the whole
  sequence fed so far (no cache), each branch with its own positions (0 … for its own prompt), and an
  explicit 4D mask: a query sees a token iff that token was fed in the same pass or earlier and sits at or
  before the query's position. Pass p of `zipar` with window s predicts cell (r, c) with r·s + c = p and
  feeds (r, c) in pass r·s + c + 1 and EOL_r in pass (r + 1)·s (EOL known in advance, fed at its true
  position as the leading input of row r + 1); s = W is raster order, and the script checks that it gives
  generate's tokens.
"""
import argparse
import json
import os
import shutil

import numpy as np
import torch

DEFAULT_NEGATIVE = ("lowres, bad anatomy, bad hands, text, error, missing fingers, extra digit, fewer digits, "
                    "cropped, worst quality, low quality, normal quality, jpeg artifacts, signature, watermark, "
                    "username, blurry.")

SPECIALS = ["<|endoftext|>", "<|extra_200|>", "<|extra_201|>", "<|extra_203|>", "<|extra_204|>",
            "<|image token|>", "<|image start|>", "<|image end|>", "<image>"]

CASES = [
    dict(name="emu3-3x4", height=3, width=4, codes=32, hidden=64, ffn=128, layers=2, heads=4, kv_heads=2,
         vq_base=32, vq_mult=[2, 1], vq_attn=[1], vq_res=0, temporal=4, seed=1, prompt="a red fox in the snow",
         negative=None, new_keys=False, windows=[1, 2, 3], cfgs=[1.0, 3.0]),
    dict(name="emu3-4x4", height=4, width=4, codes=48, hidden=64, ffn=96, layers=3, heads=4, kv_heads=1,
         vq_base=32, vq_mult=[1, 1], vq_attn=[], vq_res=2, temporal=1, seed=2, prompt="a lighthouse at dusk, waves and gulls, masterpiece, film grained, best quality.",
         negative="blurry", new_keys=True, windows=[2], cfgs=[3.0]),
    dict(name="emu3-5x3", height=5, width=3, codes=40, hidden=48, ffn=128, layers=2, heads=2, kv_heads=2,
         vq_base=32, vq_mult=[1, 1, 1], vq_attn=[2], vq_res=1, temporal=2, seed=3, prompt="the quick brown fox",
         negative=None, new_keys=False, windows=[1, 2], cfgs=[3.0, 5.0]),
]


def visual_name(code):
    return f"<|visual token {code:06d}|>"


def build_tokenizer(folder, codes):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    corpus = [c["prompt"] for c in CASES] * 3 + [DEFAULT_NEGATIVE, "a photo of a cat", "3*4 4*4 5*3 90*90"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=340, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False, special_tokens=[])
    tok.train_from_iterator(corpus, trainer)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS + [visual_name(c) for c in range(codes)])
    tok.save(os.path.join(folder, "tokenizer.json"))
    return tok, dict(tok.get_vocab(with_added_tokens=True))


def randomize(model, seed):
    """Matrices N(0, 1/fan_in), norm scales 1 + N(0, 0.2²), embeddings N(0, 1), lm_head ×6 (clear greedy
    choices), the VQ codebook N(0, 1)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen) if "norm" in name and name.endswith("weight")
                        else 0.1 * torch.randn(p.shape, generator=gen))
            elif "embed" in name or "embedding" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / p[0].numel() ** 0.5)
                if name == "lm_head.weight":
                    p.mul_(6.0)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=gen))
            elif name.endswith("running_var"):
                b.copy_(1 + 0.5 * torch.rand(b.shape, generator=gen))


def build_model(spec, vocab, folder):
    from transformers import Emu3Config, Emu3ForConditionalGeneration
    ids = {k: vocab[k] for k in SPECIALS}
    config = Emu3Config(
        text_config=dict(vocab_size=len(vocab) + 5, hidden_size=spec["hidden"], intermediate_size=spec["ffn"],
                         num_hidden_layers=spec["layers"], num_attention_heads=spec["heads"],
                         num_key_value_heads=spec["kv_heads"], max_position_embeddings=256, rms_norm_eps=1e-5,
                         rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
                         bos_token_id=ids["<|extra_203|>"], eos_token_id=ids["<|extra_204|>"],
                         pad_token_id=ids["<|endoftext|>"], tie_word_embeddings=False),
        vq_config=dict(codebook_size=spec["codes"], embed_dim=4, latent_channels=4, base_channels=spec["vq_base"],
                       channel_multiplier=spec["vq_mult"], num_res_blocks=spec["vq_res"], attn_resolutions=spec["vq_attn"],
                       temporal_downsample_factor=spec["temporal"], hidden_size=spec["vq_base"] * spec["vq_mult"][-1]),
        vocabulary_map=vocab, tie_word_embeddings=False,
    )
    torch.manual_seed(spec["seed"])
    model = Emu3ForConditionalGeneration(config).eval()
    randomize(model, spec["seed"])
    model.config._attn_implementation = "eager"
    model.model.text_model.config._attn_implementation = "eager"
    model.save_pretrained(folder, safe_serialization=True)
    slim_weights(os.path.join(folder, "model.safetensors"), spec["new_keys"])
    return model, ids


def slim_weights(path, new_keys):
    """Drops the VQ encoder (image generation never encodes) and, with `new_keys`, renames to the layout of
    the post-#37033 module tree (model.text_model.*, lm_head.weight, model.vqmodel.*); transformers 5.23's
    save_pretrained writes the older one (text_model.model.*, text_model.lm_head.weight, vqmodel.*)."""
    from safetensors.torch import load_file, save_file
    out = {}
    for k, v in load_file(path).items():
        if k.startswith(("vqmodel.encoder.", "vqmodel.quant_conv.")):
            continue
        if new_keys:
            if k.startswith("text_model.model."):
                k = "model.text_model." + k[len("text_model.model."):]
            elif k == "text_model.lm_head.weight":
                k = "lm_head.weight"
            elif k.startswith("vqmodel."):
                k = "model." + k
        out[k] = v
    save_file(out, path, metadata={"format": "pt"})


def decode_image(model, ids, visual, codes, h, w, folder, key):
    """transformers' decode_image_tokens on the run's sequence (codes, EOL per row, EOF, EOI, EOS) and the
    processor's postprocess (image_mean = image_std = 0.5, rescale 255, clip, uint8): floats and PNG."""
    from PIL import Image
    from transformers import Emu3ImageProcessor
    seq = []
    for r in range(h):
        seq += [visual[c] for c in codes[r * w:(r + 1) * w]] + [ids["<|extra_200|>"]]
    seq += [ids["<|extra_201|>"], ids["<|image end|>"], ids["<|extra_204|>"]]
    with torch.no_grad():
        image = model.decode_image_tokens(image_tokens=torch.tensor([seq]), height=h, width=w)
    processor = Emu3ImageProcessor(image_mean=[0.5] * 3, image_std=[0.5] * 3)
    pixels = np.asarray(processor.postprocess(image.float(), return_tensors="np")["pixel_values"])  # [3, H, W]
    assert pixels.shape == tuple(image.shape[1:]) and pixels.dtype == np.uint8, pixels.shape
    Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0))).save(os.path.join(folder, key + ".png"))
    return np.ascontiguousarray(image[0].float().numpy())


def prompt_ids(tok, ids, text, h, w):
    return [ids["<|extra_203|>"]] + tok.encode(f"{text}<|image start|>{h}*{w}<|image token|>",
                                                add_special_tokens=False).ids


def hf_generate(model, ids, visual, cond, neg, h, w, cfg):
    """transformers' generate with the Emu3 prefix constraint; the image part of the output."""
    L = len(cond)
    tail = [ids["<|extra_201|>"], ids["<|image end|>"], ids["<|extra_204|>"]]

    def allowed(batch_id, input_ids):
        off = input_ids.shape[-1] - L
        if off < h * (w + 1):
            return [ids["<|extra_200|>"]] if (off + 1) % (w + 1) == 0 else visual
        return [tail[off - h * (w + 1)]] if off - h * (w + 1) < 3 else [ids["<|endoftext|>"]]

    kwargs = dict(prefix_allowed_tokens_fn=allowed, do_sample=False, max_new_tokens=h * (w + 1) + 3,
                  eos_token_id=ids["<|extra_204|>"], pad_token_id=ids["<|endoftext|>"])
    if cfg != 1.0:
        kwargs.update(negative_prompt_ids=torch.tensor([neg]), negative_prompt_attention_mask=torch.ones(1, len(neg), dtype=torch.long),
                      guidance_scale=cfg)
    with torch.no_grad():
        out = model.generate(torch.tensor([cond]), attention_mask=torch.ones(1, L, dtype=torch.long), **kwargs)
    new = out[0, L:].tolist()
    assert new[h * (w + 1):] == tail, new[h * (w + 1):]
    rows = [new[r * (w + 1):(r + 1) * (w + 1)] for r in range(h)]
    assert all(row[w] == ids["<|extra_200|>"] for row in rows)
    return [t for row in rows for t in row[:w]]


def wavefront(model, ids, visual, cond, neg, h, w, s, cfg):
    """The zipar schedule (window s) on transformers' model, one uncached forward per pass and branch with
    an explicit mask; returns the VQ codes (raster), the pass count, each cell's logits and the min margin."""
    code_of = {t: i for i, t in enumerate(visual)}
    eol = ids["<|extra_200|>"]
    branches = [cond] + ([neg] if cfg != 1.0 else [])
    fed = []  # (pass, position past the prompt, token id)
    grid = {}
    passes = w + (h - 1) * s
    logits = [np.zeros((h * w, len(visual)), dtype=np.float32) for _ in branches]
    margin = float("inf")
    vis = torch.tensor(visual)
    for p in range(passes):
        for r in range(h):
            for c in range(w):
                if r * s + c + 1 == p and not (r == h - 1 and c == w - 1):
                    fed.append((p, r * (w + 1) + c, visual[grid[(r, c)]]))
            if r < h - 1 and (r + 1) * s == p:
                fed.append((p, r * (w + 1) + w, eol))
        cells = [(r, p - r * s) for r in range(h) if 0 <= p - r * s < w]
        scores = []
        for b, prompt in enumerate(branches):
            n = len(prompt)
            tokens = prompt + [t for _, _, t in fed]
            pos = list(range(n)) + [n + q for _, q, _ in fed]
            when = [0] * n + [pp for pp, _, _ in fed]
            pos_t, when_t = torch.tensor(pos), torch.tensor(when)
            visible = (when_t[None, :] <= when_t[:, None]) & (pos_t[None, :] <= pos_t[:, None])
            mask = torch.zeros(visible.shape, dtype=torch.float32).masked_fill(~visible, torch.finfo(torch.float32).min)
            with torch.no_grad():
                out = model(input_ids=torch.tensor([tokens]), position_ids=pos_t[None], attention_mask=mask[None, None],
                            use_cache=False).logits[0]
            index = {q: n + i for i, (_, q, _) in enumerate(fed)}
            rows = []
            for r, c in cells:
                src = (n - 1) if (r, c) == (0, 0) else index[r * (w + 1) + c - 1] if c > 0 else index[(r - 1) * (w + 1) + w]
                rows.append(out[src])
                logits[b][r * w + c] = out[src][vis].numpy()
            scores.append(rows)
        for j, (r, c) in enumerate(cells):
            sc = torch.log_softmax(scores[0][j], dim=-1)
            if cfg != 1.0:
                u = torch.log_softmax(scores[1][j], dim=-1)
                sc = cfg * (sc - u) + u
            sv = sc[vis]
            top = torch.topk(sv, 2).values
            margin = min(margin, float(top[0] - top[1]))
            grid[(r, c)] = int(torch.argmax(sv))
    codes = [grid[(r, c)] for r in range(h) for c in range(w)]
    assert all(code_of[visual[k]] == k for k in codes)
    return codes, passes, logits, margin


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from safetensors.numpy import save_file
    for spec in CASES:
        folder = os.path.join(args.out, spec["name"])
        shutil.rmtree(folder, ignore_errors=True)
        model_dir = os.path.join(folder, "model")
        os.makedirs(model_dir)
        tok, vocab = build_tokenizer(model_dir, spec["codes"])
        with open(os.path.join(model_dir, "preprocessor_config.json"), "w") as f:
            json.dump(dict(image_processor_type="Emu3ImageProcessor", image_mean=[0.5] * 3, image_std=[0.5] * 3,
                           rescale_factor=1 / 255, do_rescale=True, do_normalize=True, spatial_factor=8), f, indent=1)
        model, ids = build_model(spec, vocab, model_dir)
        visual = [vocab[visual_name(c)] for c in range(spec["codes"])]
        h, w = spec["height"], spec["width"]
        negative = spec["negative"] if spec["negative"] is not None else DEFAULT_NEGATIVE
        cond = prompt_ids(tok, ids, spec["prompt"], h, w)
        neg = prompt_ids(tok, ids, negative, h, w)
        runs, tensors = [], {}
        for cfg in spec["cfgs"]:
            for s in [w] + [x for x in spec["windows"] if x != w]:
                codes, passes, logits, margin = wavefront(model, ids, visual, cond, neg, h, w, s, cfg)
                if s == w:
                    want = [visual.index(t) for t in hf_generate(model, ids, visual, cond, neg, h, w, cfg)]
                    assert codes == want, (spec["name"], cfg, codes, want)
                    schedules = [("raster", 0, h * w + h - 1), ("zipar", w, passes)]
                else:
                    schedules = [("zipar", s, passes)]
                for name, window, count in schedules:
                    key = f"{name}_w{window}_cfg{cfg:.1f}"
                    runs.append(dict(schedule=name, window=window, cfg_scale=cfg, tokens=codes, forward_passes=count,
                                     min_greedy_margin=margin, image=key + ".png"))
                    tensors[key + "_cond_logits"] = np.ascontiguousarray(logits[0])
                    tensors[key + "_image"] = decode_image(model, ids, visual, codes, h, w, folder, key)
                    if cfg != 1.0:
                        tensors[key + "_uncond_logits"] = np.ascontiguousarray(logits[1])
                print(spec["name"], f"cfg {cfg} window {s}: passes {passes}, min margin {margin:.3f}")
        save_file(tensors, os.path.join(folder, "expected.safetensors"))
        f = 2 ** (len(spec["vq_mult"]) - 1)
        info = dict(family="emu3", model="model", prompt=spec["prompt"], negative_prompt=spec["negative"],
                    image_size=f"{w * f}x{h * f}", height=h, width=w, input_ids=cond, negative_input_ids=neg, new_keys=spec["new_keys"], runs=runs)
        with open(os.path.join(folder, "case.json"), "w") as f:
            json.dump(info, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
