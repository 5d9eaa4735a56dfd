#!/usr/bin/env python3
"""Checks that models.py is LlamaGen's architecture: loads the conformance fixture (weights written by
LlamaGen's own code, Tests/ZipARTests/Fixtures/conformance/c2i-tiny-8x8) into models.VQModel and
models.GPT with strict key/shape matching, then compares greedy raster tokens and decoded pixels with
the outputs of LlamaGen's released PyTorch code stored in the fixture, and checks that train_gpt's
`deepen` (more layers, same function) leaves the fixture GPT's logits unchanged and that Muon's
Newton-Schulz step orthogonalises. Prints 'N passed, N failed'."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, load_safetensors, setup_torch, to_uint8  # noqa: E402

torch = setup_torch(2)
from models import GPT, GPTArgs, VQArgs, VQModel  # noqa: E402


def main():
    from PIL import Image
    case_dir = os.path.join(REPO, "Tests/ZipARTests/Fixtures/conformance/c2i-tiny-8x8")
    vc = json.load(open(os.path.join(case_dir, "vq/config.json")))
    gc = json.load(open(os.path.join(case_dir, "gpt/config.json")))
    vq = VQModel(VQArgs(codebook_size=vc["codebook_size"], codebook_embed_dim=vc["codebook_embed_dim"],
                        encoder_ch_mult=vc["encoder_ch_mult"], decoder_ch_mult=vc["decoder_ch_mult"],
                        z_channels=vc["z_channels"], ch=vc["ch"])).eval()
    gpt = GPT(GPTArgs(dim=gc["dim"], n_layer=gc["n_layer"], n_head=gc["n_head"], vocab_size=gc["vocab_size"],
                      block_size=gc["block_size"], num_classes=gc["num_classes"])).eval()
    passed = failed = 0
    for model, sub in ((vq, "vq"), (gpt, "gpt")):
        w = load_safetensors(os.path.join(case_dir, sub, "model.safetensors"))
        model.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()}, strict=True)  # raises on any mismatch
        print(f"ok   {sub}: {len(w)} tensors load with strict key and shape matching")
        passed += 1
    case = json.load(open(os.path.join(case_dir, "case.json")))
    grid = case["grid"]
    for ok in (deepen_keeps_logits(gpt, grid, case["class_label"]), muon_orthogonalises()):
        passed, failed = passed + ok, failed + (not ok)
    for run in case["runs"]:
        if run["scheduler"] != "raster":
            continue
        toks = gpt.sample(torch.tensor([case["class_label"]]), cfg_scale=run["cfg_scale"], temperature=0)[0].tolist()
        img = to_uint8(vq.decode_code(torch.tensor(run["tokens"]).view(1, grid, grid)))[0]
        ref = np.asarray(Image.open(os.path.join(case_dir, run["image"])).convert("RGB"))
        diff = int(np.abs(img.astype(int) - ref.astype(int)).max())
        ok = toks == run["tokens"] and diff <= 2
        print(f"{'ok  ' if ok else 'FAIL'} greedy raster cfg {run['cfg_scale']}: tokens {'equal' if toks == run['tokens'] else 'differ'}, "
              f"decoded pixels max |diff| {diff}")
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def deepen_keeps_logits(gpt, grid, label):
    """train_gpt.deepen to n_layer + 3: logits of random tokens equal the original's (max |diff| <= 1e-6)."""
    from train_gpt import deepen
    tokens = torch.randint(0, gpt.args.vocab_size, (2, grid * grid), generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([label, gpt.args.num_classes])  # a class and the null class
    grown = deepen(gpt, gpt.args.n_layer + 3, torch, seed=0).eval()
    with torch.no_grad():
        diff = (grown(tokens, labels, drop_labels=False) - gpt(tokens, labels, drop_labels=False)).abs().max().item()
    ok = len(grown.layers) == gpt.args.n_layer + 3 and diff <= 1e-6
    print(f"{'ok  ' if ok else 'FAIL'} deepen {gpt.args.n_layer} -> {len(grown.layers)} layers: logits max |diff| {diff:.1e}")
    return ok


def muon_orthogonalises():
    """muon.newton_schulz of random wide, tall and batched square matrices (singular values spread up to
    1:230): every output singular value within [0.3, 1.25] (Muon's quintic trades exactness for speed:
    about [0.68, 1.13] for the wide and tall ones, down to 0.42 for the square ones' smallest), and the
    row blocks of a split matrix are orthogonalised separately (block 0 alone gives the same result)."""
    from muon import newton_schulz
    g = torch.Generator().manual_seed(0)
    worst = []
    for shape in ((96, 256), (256, 96), (3, 96, 96)):
        s = torch.linalg.svdvals(newton_schulz(torch.randn(*shape, generator=g)))
        worst += [s.min().item(), s.max().item()]
    m = torch.randn(3, 32, 96, generator=g) * torch.tensor([1.0, 100.0, 0.01]).view(3, 1, 1)
    split = (newton_schulz(m)[0] - newton_schulz(m[0])).abs().max().item()
    ok = 0.3 <= min(worst) and max(worst) <= 1.25 and split <= 1e-5
    print(f"{'ok  ' if ok else 'FAIL'} muon Newton-Schulz: singular values in [{min(worst):.2f}, {max(worst):.2f}], "
          f"split blocks independent (max |diff| {split:.1e})")
    return ok


if __name__ == "__main__":
    main()
