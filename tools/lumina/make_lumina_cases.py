#!/usr/bin/env python3
"""Lumina-mGPT (Chameleon) conformance cases from the authors' own code, run on the CPU.

Run (from the repository root; a few minutes):

    nice -n 10 tools/lumina/make_lumina_cases.py --out Tests/ZipARTests/Fixtures/lumina

The interpreter is tools/work/lumina-venv/bin/python (see `ensure_venv`): transformers 4.45.2 (the
released code uses v4 generation internals) over the tools venv's torch. The script extracts two
checkouts under tools/work/ (from bare git directories passed with --zipar-git and --lumina-git):
ThisisBillhe/ZipAR (folder Lumina-mGPT-ZipAR: the released ZipAR code) and Alpha-VLLM/Lumina-mGPT
(upstream, the raster reference), patches them as PATCHES lists (nothing else), and runs each in its own
worker process (both have top-level modules `model`, `data`, `xllmx`).

What is made (OUT = the --out folder):
- OUT/model/: a tiny ChameleonXLLMXForConditionalGeneration folder (save_pretrained: config.json with
  vocabulary_map, model.safetensors in float32; weights random, see `randomize`), tokenizer.json,
  tokenizer_config.json, special_tokens_map.json. Real id layout: <s> 0, <pad> 1, </s> 2, <unk> 3,
  image tokens 4..8195 named IMGIMG<letters>Z (a fixed random permutation of the 8192 codes, as the real
  vocabulary permutes them), <eoss> 8196, <racm3:break> 8197, <reserved0NNNN> at NNNN + 4 (8198 ..),
  then a small byte-level BPE (the Chameleon pre-tokenizer sequence).
- OUT/vqgan/: vqgan.yaml (taming VQModel params) + vqgan.ckpt (torch.save of a Lightning-style
  {"state_dict", "epoch", "global_step", "pytorch-lightning_version"}; the state dict holds the decoder,
  quantize and post_quant_conv keys and two loss.* keys, which Lumina's strict=False load skips; the encoder
  is left out to keep the fixture small) + text_tokenizer.json (Meta's file name, the same
  vocabulary), a tiny Chameleon VQGAN (8192 codes, as the id layout needs).
- OUT/<case>/case.json: family "lumina", model "../model", vq "../vqgan", prompt, image_size (pixels as
  Lumina's prompt states them: 32 per size-token unit), input_ids (BOS + conversation), header
  ([<racm3:break>, H, W] ids), uncond prompts of both references, and runs: {schedule, window, cfg_scale,
  tokens (VQ codes, raster order, EOL left out), forward_passes, image, min_greedy_margin, reference}.
- OUT/<case>/expected.safetensors: teacher_logits [k, 8192] (one causal forward over input_ids + header +
  the first zipar-reference run's image rows with EOL tokens, guidance off; row j = the logits, image codes in code order,
  predicting cell teacher_cells[j]), teacher_cells, and per run "<run>_image" (the decoder's float output
  [3, S, S]).
- OUT/<case>/<run>.png: Lumina's own PIL image (clamp(-1, 1), (x + 1) / 2 * 255, astype(uint8)).

Schedules and what runs them:
- zipar-reference: the released ZipAR code's `model.generate` (ChameleonForConditionalGeneration._sample
  override) through FlexARInferenceSolver.generate, its batched CFG ([0, 1, 1, ...] prompt), its
  processors; window = model.zipar_window_size. forward_passes = the code's own count, the number it prints
  ("Model forward times: ", cur_len - prompt_len: the prompt prefill, the passes feeding BOI and H, then
  the image passes), asserted equal to the calls of the model counted here.
- raster: upstream Lumina-mGPT's FlexARInferenceSolver.generate (HF generate, unbatched CFG: the
  unconditional context [BOI, H, W, ...] with its own cache). forward_passes = its conditional forward
  calls up to the one that produced the last image token (one per generated token: the header, every
  image token and every forced EOL between rows).

A property of the released code this records (not patched): its decoder layers are always the eager
`ChameleonAttention` (the ZipAR edit of ChameleonDecoderLayer), while its mask code follows the config's
attn_implementation, "sdpa" by default, which leaves causality to SDPA's is_causal: a pass of several tokens
over an empty cache (the prompt's prefill) gets no mask at all, so the prompt attends bidirectionally (both
CFG rows). Later passes are causal (one token, or the explicit ZipAR mask). Upstream Lumina-mGPT builds its
layers by attn_implementation and is causal throughout. The teacher logits are plain causal teacher forcing:
they are computed with config._attn_implementation set to "eager" (the eager causal mask).

Patches (every change made to the authors' code; see PATCHES_ZIPAR / PATCHES_UPSTREAM):
- device "cuda" -> "cpu" (processors' masks, the model's EOL/EOI/END/PAD tensors, the item processor);
  `torch.cuda.amp.autocast(dtype=...)` -> a disabled CPU autocast (float32 throughout);
- the absolute / relative ckpt paths of FlexARItemProcessor -> OUT/vqgan, the tokenizer default
  "Alpha-VLLM/Lumina-mGPT-7B-768" -> OUT/model;
- greedy: GenerationConfig(do_sample=True) -> do_sample=False in FlexARInferenceSolver.generate;
- the row length: the ZipAR model's tokens_per_row (hard-coded 49, 48x48 grids) is set to W + 1 and
  reset_zipar() called, as attribute assignments after loading;
- forced header tokens: a LogitsProcessor appended to the solver's list forces <racm3:break>, then the
  size token twice (random weights would sample garbage there); it leaves every later step alone.
The solver is built with precision "fp32" (its own dtype table has it).

Instrumentation (observes, changes nothing): a last logits processor records each image step's greedy
margin; a forward pre-hook counts the model's calls; wrappers of model.generate and the VQ model's decode
keep the generated ids and the decoder's float output. The teacher forward sets config._attn_implementation
to "eager" after the runs (see above).
"""
import argparse
import contextlib
import io
import json
import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
WORK = os.path.join(ROOT, "tools", "work")
VENV = os.path.join(WORK, "lumina-venv")
TOOLS_SITE = os.path.join(ROOT, "tools", ".venv", "lib", "python3.11", "site-packages")

BOS, PAD, EOS, UNK = "<s>", "<pad>", "</s>", "<unk>"
BOI_ID, EOI_ID, EOT_ID, EOL_ID, SIZE0_ID = 8197, 8196, 8710, 8803, 8804
IMAGE_CODES = 8192
RESERVED = range(8194, 8900)  # <reserved08194> .. <reserved08899> at ids 8198 .. 8903
MIN_MARGIN = 2e-3
PROMPT_TEMPLATE = "Generate an image of {w}x{h} according to the following prompt:\n{p}"

# name, size-token unit n (grid 2n x 2n, prompt size 32n px), prompt, runs (schedule, window, cfg)
CASES = [
    dict(name="lumina-4x4", n=2, prompt="a red fox in the snow",
         runs=[("raster", 0, 3.0), ("raster", 0, 1.0), ("zipar-reference", 2, 3.0), ("zipar-reference", 3, 3.0),
               ("zipar-reference", 5, 3.0), ("zipar-reference", 3, 1.0)]),
    dict(name="lumina-6x6", n=3, prompt="Café on a rainy street, 東京, neon signs; 1920s poster!",
         runs=[("raster", 0, 3.0), ("zipar-reference", 2, 3.0), ("zipar-reference", 4, 3.0),
               ("zipar-reference", 7, 3.0)]),
    dict(name="lumina-8x8", n=4, prompt="A portrait of young girl. masterpiece, film grained, best quality.",
         runs=[("raster", 0, 3.0), ("zipar-reference", 3, 3.0), ("zipar-reference", 6, 3.0),
               ("zipar-reference", 2, 5.0)]),
]

MODEL = dict(hidden=32, ffn=64, layers=2, heads=2, max_positions=512, seed=11)
VQ = dict(ch=32, ch_mult=[1, 1, 2], num_res_blocks=1, z_channels=32, embed_dim=8, seed=12)

PATCHES_ZIPAR = {
    "lumina_mgpt/inference_solver.py": [
        ('device="cuda"', 'device="cpu"', 8),
        ('device_map="cuda"', 'device_map="cpu"', 1),
        ("do_sample=True", "do_sample=False", 1),
        ("torch.cuda.amp.autocast(dtype=self.dtype)", 'torch.autocast("cpu", enabled=False)', 1),
    ],
    "lumina_mgpt/model/chameleon/modeling_chameleon.py": [("device='cuda'", "device='cpu'", 4)],
    "lumina_mgpt/data/item_processor.py": [
        ('device="cuda"', 'device="cpu"', 2),
        (".cuda()", ".cpu()", 1),
        ("/mnt/workspace/Lumina-mGPT/lumina_mgpt/ckpts/chameleon/tokenizer/", "{VQ_DIR}/", 3),
        ('tokenizer="Alpha-VLLM/Lumina-mGPT-7B-768"', 'tokenizer="{MODEL_DIR}"', 1),
    ],
}
PATCHES_UPSTREAM = {
    "lumina_mgpt/inference_solver.py": [
        ('device="cuda"', 'device="cpu"', 4),
        ('device_map="cuda"', 'device_map="cpu"', 1),
        ("do_sample=True", "do_sample=False", 1),
        ("torch.cuda.amp.autocast(dtype=self.dtype)", 'torch.autocast("cpu", enabled=False)', 1),
    ],
    "lumina_mgpt/data/item_processor.py": [
        ('device="cuda"', 'device="cpu"', 2),
        (".cuda()", ".cpu()", 1),
        ("./ckpts/chameleon/tokenizer/", "{VQ_DIR}/", 3),
        ('tokenizer="Alpha-VLLM/Lumina-mGPT-7B-768"', 'tokenizer="{MODEL_DIR}"', 1),
    ],
}


def ensure_venv():
    """Re-executes under tools/work/lumina-venv (created with transformers 4.45.2 over the tools venv's
    torch) unless already there."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        site = subprocess.check_output([py, "-c", "import site; print(site.getsitepackages()[0])"], text=True).strip()
        with open(os.path.join(site, "zz_tools_venv.pth"), "w") as f:
            f.write(TOOLS_SITE + "\n")  # torch, numpy, safetensors, PIL from the tools venv, after ours
        subprocess.check_call([py, "-m", "pip", "install", "-q", "transformers==4.45.2", "pyyaml", "sentencepiece", "psutil"])
        subprocess.check_call([py, "-m", "pip", "install", "-q", "--no-deps", "accelerate==1.0.1"])
    os.execv(py, [py] + sys.argv)


# ------------------------------------------------------------------------------------------ checkouts

def extract(git_dir, subdir, dest, patches, subst):
    """Extracts `subdir` of the bare repository's HEAD into `dest` and applies `patches` (each old text
    must occur exactly the stated number of times)."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    listing = ["git", "--git-dir", git_dir, "ls-tree", "-r", "--name-only", "HEAD"] + ([subdir] if subdir else [])
    for path in subprocess.check_output(listing, text=True).splitlines():
        if not path.endswith(".py"):
            continue
        data = subprocess.check_output(["git", "--git-dir", git_dir, "show", f"HEAD:{path}"])
        rel = os.path.relpath(path, subdir) if subdir else path
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(data)
    for rel, edits in patches.items():
        p = os.path.join(dest, rel)
        text = open(p, encoding="utf8").read()
        for old, new, count in edits:
            n = text.count(old)
            assert n == count, f"{rel}: expected {count}× {old!r}, found {n}"
            text = text.replace(old, new.format(**subst))
        open(p, "w", encoding="utf8").write(text)


# -------------------------------------------------------------------------------------------- tokenizer

def image_token_name(code):
    return "IMGIMG" + "".join(chr(ord("A") + int(d)) for d in str(code)) + "Z"


def build_tokenizer(folder):
    """A Chameleon-layout byte-level BPE: the specials, image and reserved tokens at their real ids, the
    Chameleon pre-tokenizer sequence, a small trained text vocabulary after them."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    chameleon_splits = [
        "<sentinel:[0-9]+>",
        "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
        "([\\t\\n]|    |  )",
        "\\p{N}",
        "[\\p{P}!-/:-@\\[-`{-~]",
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    ]

    def pre():
        return pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(p), behavior="isolated") for p in chameleon_splits]
            + [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])

    corpus = [PROMPT_TEMPLATE.format(w=32 * c["n"], h=32 * c["n"], p=c["prompt"]) for c in CASES] * 4
    corpus += ["Generate an image of 768x768 according to the following prompt:\nA photo of a cat.",
               "a lighthouse at dusk, waves and gulls", "the quick brown fox jumps over the lazy dog"]
    trainer_tok = Tokenizer(models.BPE())
    trainer_tok.pre_tokenizer = pre()
    trainer = trainers.BpeTrainer(vocab_size=420, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False, special_tokens=[])
    trainer_tok.train_from_iterator(corpus, trainer)
    trained = json.loads(trainer_tok.to_str())["model"]

    perm = list(range(IMAGE_CODES))
    random.Random(20240817).shuffle(perm)
    vocab = {BOS: 0, PAD: 1, EOS: 2, UNK: 3}
    for i, code in enumerate(perm):
        vocab[image_token_name(code)] = 4 + i
    vocab["<eoss>"] = EOI_ID
    vocab["<racm3:break>"] = BOI_ID
    for k in RESERVED:
        vocab[f"<reserved{k:05d}>"] = k + 4
    base = len(vocab)
    assert base == RESERVED[-1] + 5
    for piece, _ in sorted(trained["vocab"].items(), key=lambda kv: kv[1]):
        vocab[piece] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
                                                    for m in trained["merges"]]))
    tok.pre_tokenizer = pre()
    tok.decoder = decoders.ByteLevel()
    specials = [BOS, PAD, EOS, UNK, "<eoss>", "<racm3:break>"] + [f"<reserved{k:05d}>" for k in RESERVED]
    tok.add_special_tokens(specials)
    assert all(tok.token_to_id(s) == vocab[s] for s in specials)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD,
                                   unk_token=UNK, model_max_length=4096)
    fast.save_pretrained(folder)
    tok.save(os.path.join(folder, "tokenizer.json"))
    return vocab, perm


# --------------------------------------------------------------------------------------- model, VQGAN

def randomize(module, seed, head_scale=1.0):
    """Well-conditioned random weights: matrices N(0, 1/fan_in), biases N(0, 0.1²), norm scales
    1 + N(0, 0.2²), embeddings and the codebook N(0, 1); `head_scale` widens lm_head (clear greedy choices,
    as a trained model's are)."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim == 1 or (p.ndim == 2 and ("q_norm" in name or "k_norm" in name)):
                if "norm" in name and name.endswith("weight"):
                    p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "embed" in name or "embedding" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / p[0].numel() ** 0.5)
                if name == "lm_head.weight":
                    p.mul_(head_scale)


def build_model(folder, vocab, zipar_dir):
    import torch
    sys.path[:0] = [os.path.join(zipar_dir, "lumina_mgpt"), zipar_dir]
    from model.modeling_xllmx_chameleon import ChameleonXLLMXForConditionalGeneration
    from model.configuration_xllmx_chameleon import ChameleonXLLMXConfig

    vocab_size = ((len(vocab) + 1 + 63) // 64) * 64  # room for the "<|image|>" the item processor adds
    config = ChameleonXLLMXConfig(
        vocab_size=vocab_size, hidden_size=MODEL["hidden"], intermediate_size=MODEL["ffn"],
        num_hidden_layers=MODEL["layers"], num_attention_heads=MODEL["heads"], num_key_value_heads=MODEL["heads"],
        max_position_embeddings=MODEL["max_positions"], rms_norm_eps=1e-5, rope_theta=10000.0,
        mask_image_logits=False, bos_token_id=0, eos_token_id=2, pad_token_id=1,
        vq_config=dict(embed_dim=4, num_embeddings=16, latent_channels=32, base_channels=32,
                       channel_multiplier=[1, 1], num_res_blocks=1, attn_resolutions=[], resolution=16),
        vocabulary_map=vocab, torch_dtype="float32",
    )
    config.architectures = ["ChameleonXLLMXForConditionalGeneration"]
    torch.manual_seed(MODEL["seed"])
    model = ChameleonXLLMXForConditionalGeneration(config)
    randomize(model, MODEL["seed"], head_scale=6.0)
    model.save_pretrained(folder, safe_serialization=True)
    for p in sys.path[:2]:
        sys.path.remove(p)
    for m in [m for m in sys.modules if m == "model" or m.startswith("model.")]:
        del sys.modules[m]
    return config


def build_vqgan(folder, zipar_dir):
    import torch
    import yaml
    sys.path[:0] = [os.path.join(zipar_dir, "lumina_mgpt"), zipar_dir]
    from model.chameleon_vae_ori.vqgan import VQModel
    ddconfig = dict(double_z=False, z_channels=VQ["z_channels"], resolution=64, in_channels=3, out_ch=3,
                    ch=VQ["ch"], ch_mult=VQ["ch_mult"], num_res_blocks=VQ["num_res_blocks"], attn_resolutions=[],
                    dropout=0.0)
    params = dict(embed_dim=VQ["embed_dim"], n_embed=IMAGE_CODES, ddconfig=ddconfig,
                  lossconfig=dict(target="taming.modules.losses.vqperceptual.VQLPIPSWithDiscriminator",
                                  params=dict(disc_start=0, codebook_weight=1.0)))
    yaml_text = yaml.safe_dump({"model": {"base_learning_rate": 4.5e-06,
                                          "target": "taming.models.vqgan.VQModel", "params": params}}, sort_keys=False)
    open(os.path.join(folder, "vqgan.yaml"), "w").write(yaml_text)
    p = dict(params)
    del p["lossconfig"]
    torch.manual_seed(VQ["seed"])
    vq = VQModel(**p)
    randomize(vq, VQ["seed"])
    # The decoder's keys (those Lumina's decode uses) and a few loss.* keys; the encoder's are left out to
    # keep the fixture small (Lumina's strict=False load leaves them at their init).
    sd = {k: v for k, v in vq.state_dict().items() if not k.startswith(("encoder.", "quant_conv."))}
    gen = torch.Generator().manual_seed(VQ["seed"] + 1)
    sd["loss.discriminator.main.0.weight"] = torch.randn(4, 3, 4, 4, generator=gen)
    sd["loss.logvar"] = torch.zeros(())
    torch.save({"epoch": 3, "global_step": 1234, "pytorch-lightning_version": "1.4.2", "state_dict": sd},
               os.path.join(folder, "vqgan.ckpt"))
    for p_ in sys.path[:2]:
        sys.path.remove(p_)
    for m in [m for m in sys.modules if m == "model" or m.startswith("model.")]:
        del sys.modules[m]


# ------------------------------------------------------------------------------------------- workers

class HeaderForcing:
    """Forces <racm3:break>, then the size token twice (H, W); leaves every later step alone."""

    def __init__(self, prompt_len, size_id):
        self.prompt_len, self.header = prompt_len, [BOI_ID, size_id, size_id]

    def __call__(self, input_ids, scores):
        k = input_ids.shape[1] - self.prompt_len
        if k < len(self.header):
            forced = scores.new_full(scores.shape, float("-inf"))
            forced[:, self.header[k]] = 0
            return forced
        return scores


def worker(spec_path):
    """Runs one checkout's solver for every run of `spec` (JSON) and writes what it produced to
    SPEC.out.json (and each run's PNG)."""
    import torch
    spec = json.load(open(spec_path))
    sys.path[:0] = [os.path.join(spec["checkout"], "lumina_mgpt"), spec["checkout"]]
    os.chdir(os.path.join(spec["checkout"], "lumina_mgpt"))
    from inference_solver import FlexARInferenceSolver
    torch.set_num_threads(2)
    n, grid = spec["n"], 2 * spec["n"]
    solver = FlexARInferenceSolver(model_path=spec["model_dir"], precision="fp32", target_size=32 * n)
    model = solver.model
    vq = solver.item_processor.chameleon_ori_image_tokenizer._vq_model
    results = []
    for run in spec["runs"]:
        qas = [[PROMPT_TEMPLATE.format(w=32 * n, h=32 * n, p=spec["prompt"]), None]]
        conversation = [{"from": "human", "value": qas[0][0]}, {"from": "gpt", "value": None}]
        prompt_ids = solver.item_processor.process_item({"image": [], "conversations": conversation})
        processors = solver.create_logits_processor(cfg=run["cfg"], image_top_k=2000)
        processors.append(HeaderForcing(len(prompt_ids), SIZE0_ID + n))
        margins = []

        def margin(input_ids, scores):  # the greedy margin of every sampled image step, after every processor
            s = scores[0].float()
            if input_ids.shape[1] - len(prompt_ids) >= 3 and int(torch.isfinite(s).sum()) > 1:
                top = torch.topk(s, 2).values
                margins.append(float(top[0] - top[1]))
            return scores
        processors.append(margin)
        if spec["kind"] == "zipar":
            model.cfg = run["cfg"]
            model.zipar_window_size = run["window"]
            model.tokens_per_row = grid + 1
            model.reset_zipar()
        captured = {"calls": 0}
        orig_generate, orig_decode = model.generate, vq.decode

        def count_call(module, args):
            captured["calls"] += 1

        def keeping_generate(*a, **k):
            out = orig_generate(*a, **k)
            captured["sequence"] = out[0].tolist()
            return out

        def keeping_decode(quant):
            out = orig_decode(quant)
            captured["image"] = out[0].detach().float().numpy().tolist()
            return out
        hook = model.register_forward_pre_hook(count_call)
        model.generate, vq.decode = keeping_generate, keeping_decode
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            _, images = solver.generate(images=[], qas=qas, max_gen_len=3 + grid * (grid + 1) + 1,
                                        temperature=1.0, logits_processor=processors)
        hook.remove()
        del model.generate, vq.decode
        if spec["kind"] == "zipar":
            model.reset_zipar()
        images[0].save(os.path.join(spec["out_dir"], run["png"]))
        results.append(dict(run=run, prompt_ids=prompt_ids, printed=printed.getvalue()[-3000:], margins=margins,
                            calls=captured["calls"], sequence=captured["sequence"], image=captured["image"]))
    if spec["kind"] == "zipar":  # teacher forcing over the first run's sequence, guidance off, causal
        seq = results[0]["sequence"]
        model.config._attn_implementation = "eager"  # the causal mask the eager layers need (see the docstring)
        with torch.no_grad():
            logits = model(torch.tensor([seq[:-1]]), use_cache=False).logits[0].float()
        results.append(dict(teacher_sequence=seq, teacher_logits=logits.tolist()))
    json.dump(results, open(spec_path + ".out.json", "w"))


def image_cells(sequence, prompt_len, grid):
    """(index in sequence, code position) of every image token: the rows after [BOI, H, W], EOL dropped."""
    start = prompt_len + 3
    cells = []
    for r in range(grid):
        for c in range(grid):
            cells.append(start + r * (grid + 1) + c)
    return cells


def main():
    ensure_venv()
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests", "ZipARTests", "Fixtures", "lumina"))
    ap.add_argument("--zipar-git", default="/work/.mirror/ThisisBillhe+ZipAR/repo")
    ap.add_argument("--lumina-git", default="/work/.mirror/Alpha-VLLM+Lumina-mGPT/repo")
    ap.add_argument("--worker", default=None)
    a = ap.parse_args()
    if a.worker:
        return worker(a.worker)
    import numpy as np
    import torch
    from safetensors.numpy import save_file

    out = os.path.abspath(a.out)
    model_dir, vq_dir = os.path.join(out, "model"), os.path.join(out, "vqgan")
    for d in (model_dir, vq_dir):
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(d)
    subst = dict(VQ_DIR=vq_dir, MODEL_DIR=model_dir)
    zipar_dir, upstream_dir = os.path.join(WORK, "lumina-zipar"), os.path.join(WORK, "lumina-upstream")
    extract(a.zipar_git, "Lumina-mGPT-ZipAR", zipar_dir, PATCHES_ZIPAR, subst)
    extract(a.lumina_git, "", upstream_dir, PATCHES_UPSTREAM, subst)

    vocab, perm = build_tokenizer(model_dir)
    shutil.copy(os.path.join(model_dir, "tokenizer.json"), os.path.join(vq_dir, "text_tokenizer.json"))
    build_model(model_dir, vocab, zipar_dir)
    build_vqgan(vq_dir, zipar_dir)
    bpe2img = {4 + i: code for i, code in enumerate(perm)}
    img_rows = [4 + perm.index(c) for c in range(IMAGE_CODES)]  # vocabulary id of each code

    for case in CASES:
        n, grid = case["n"], 2 * case["n"]
        case_dir = os.path.join(out, case["name"])
        if os.path.exists(case_dir):
            shutil.rmtree(case_dir)
        os.makedirs(case_dir)
        outputs = {}
        for kind, checkout in (("zipar", zipar_dir), ("upstream", upstream_dir)):
            runs = [dict(schedule=s, window=w, cfg=cfg, png=f"{s}_w{w}_cfg{cfg}.png")
                    for s, w, cfg in case["runs"] if (s == "raster") == (kind == "upstream")]
            spec_path = os.path.join(WORK, f"lumina-{case['name']}-{kind}.json")
            json.dump(dict(kind=kind, checkout=checkout, model_dir=model_dir, n=n, prompt=case["prompt"], runs=runs,
                           out_dir=case_dir), open(spec_path, "w"))
            subprocess.check_call([sys.executable, os.path.abspath(__file__), "--worker", spec_path])
            outputs[kind] = json.load(open(spec_path + ".out.json"))
        zipar_results = outputs["zipar"]
        teacher = zipar_results.pop()
        results = zipar_results + outputs["upstream"]
        prompt_ids = results[0]["prompt_ids"]
        L = len(prompt_ids)
        header = [BOI_ID, SIZE0_ID + n, SIZE0_ID + n]
        tensors = {}
        runs = []
        for res in results:
            run, seq = res["run"], res["sequence"]
            assert res["prompt_ids"] == prompt_ids
            assert seq[:L] == prompt_ids and seq[L:L + 3] == header, "header not as forced"
            cells = image_cells(seq, L, grid)
            for r in range(grid):
                assert seq[L + 3 + r * (grid + 1) + grid] == EOL_ID, "no EOL at the end of a row"
            assert seq[L + 3 + grid * (grid + 1)] == EOI_ID
            tokens = [bpe2img[seq[i]] for i in cells]
            if run["schedule"] == "zipar-reference":
                passes = int(res["printed"].split("Model forward times:")[-1].split()[0])
                assert passes == res["calls"], f"printed {passes} passes, counted {res['calls']} calls"
            else:
                passes = cells[-1] - L + 1  # one pass per generated token, up to the last image token
            key = f"{run['schedule']}_w{run['window']}_cfg{run['cfg']}"
            tensors[key + "_image"] = np.array(res["image"], dtype=np.float32)
            margin = min(res["margins"])
            assert margin >= MIN_MARGIN, f"{case['name']} {key}: greedy margin {margin} too close to a tie"
            runs.append(dict(schedule=run["schedule"], window=run["window"], cfg_scale=run["cfg"], tokens=tokens,
                             forward_passes=passes, image=run["png"], min_greedy_margin=margin,
                             reference="ThisisBillhe/ZipAR Lumina-mGPT-ZipAR" if run["schedule"] != "raster"
                             else "Alpha-VLLM/Lumina-mGPT"))
        seq = teacher["teacher_sequence"]
        cells = image_cells(seq, L, grid)
        pick = sorted({cells[0], cells[grid - 1], cells[grid], cells[len(cells) // 2], cells[-1]})
        logits = np.array(teacher["teacher_logits"], dtype=np.float32)
        tensors["teacher_logits"] = np.ascontiguousarray(logits[[i - 1 for i in pick]][:, img_rows])
        tensors["teacher_cells"] = np.array([cells.index(i) for i in pick], dtype=np.int64)
        tensors["teacher_tokens"] = np.array([bpe2img[seq[i]] for i in cells], dtype=np.int64)
        save_file(tensors, os.path.join(case_dir, "expected.safetensors"))
        case_json = dict(
            family="lumina", model="../model", vq="../vqgan", prompt=case["prompt"], image_size=32 * n,
            template_text=PROMPT_TEMPLATE.format(w=32 * n, h=32 * n, p=case["prompt"]) + "<reserved08706>",
            input_ids=prompt_ids, header=header, end_of_line=EOL_ID,
            uncond_input_ids_zipar=[0] + [1] * (L - 1), uncond_input_ids_upstream=[],
            height=grid, width=grid, codebook_size=IMAGE_CODES,
            teacher_from=runs[0]["schedule"] + f"_w{runs[0]['window']}_cfg{runs[0]['cfg_scale']}",
            text_model=dict(MODEL), vq_model=dict(VQ), runs=runs,
            notes=["tokens: VQ codes in raster order (bpe2img of the image ids), end-of-line tokens left out",
                   "zipar-reference forward_passes: the released code's own count (cur_len - prompt_len)",
                   "raster forward_passes: upstream HF generate's passes up to the last image token"],
        )
        json.dump(case_json, open(os.path.join(case_dir, "case.json"), "w"), indent=1)
        print(case["name"], [(r["schedule"], r["window"], r["cfg_scale"], r["forward_passes"],
                              round(r["min_greedy_margin"], 4)) for r in runs])


if __name__ == "__main__":
    main()
