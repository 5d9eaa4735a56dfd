#!/usr/bin/env python3
"""Exports the trained models as folders the Swift engine (and evaluate.py) load.

  export.py [--run full|smoke|NAME] [--smoke]

Writes, from RUN/ckpt/*.pt:
  RUN/vq/config.json, model.safetensors          LlamaGen VQ ModelArgs names + "ch"; every VQModel key
  RUN/gpt/config.json, model.safetensors         LlamaGen GPT ModelArgs names (+ "labels"); every key
  RUN/gpt/generation_config.json                 the sampling settings `zipar` uses for this model when no
                                                 flag overrides them (GENERATION below; docs/demo-model.md)
  RUN/classifier/config.json, model.safetensors  the glyph CNN (layout in docs/demo-model.md)
  RUN/classifier/fd_reference.safetensors        mu [F], sigma [F, F] of the classifier features of the
                                                 held-out real glyphs (the Frechet distance reference)
All tensors float32. A stage whose checkpoint is missing is skipped with a message.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

from common import (CLASSES, Log, load_checkpoint, load_glyphs, run_dir, save_safetensors,  # noqa: E402
                    setup_torch, to_model_range, write_json)
from models import ClassifierArgs, GlyphClassifier  # noqa: E402


# Sampling defaults for the demo GPT, from the sweeps in docs/demo-model.md (classifier accuracy of raster
# samples of the shipped two-phase GPT was highest at CFG 2 with temperature 0.7 and top-k 10).
GENERATION = {"cfg_scale": 2.0, "temperature": 0.7, "top_k": 10, "top_p": 1.0}


def features(model, x_u8, torch, batch=256):
    out = []
    with torch.no_grad():
        for i in range(0, len(x_u8), batch):
            out.append(model.features(to_model_range(x_u8[i:i + batch])).double().numpy())
    return np.concatenate(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default=None)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--data", default=None)
    a = ap.parse_args(argv)
    a.run = a.run or ("smoke" if a.smoke else "full")
    rd = run_dir(a.run)
    a.data = a.data or os.path.join(rd, "glyphs")
    torch = setup_torch(2)
    log = Log(os.path.join(rd, "logs", "export.log"))

    def export_model(stage, config_key, extra_config=None, extra_files=()):
        """RUN/ckpt/STAGE.pt -> RUN/STAGE/config.json + model.safetensors (+ extra JSON files)."""
        ck = load_checkpoint(os.path.join(rd, "ckpt", f"{stage}.pt"))
        if ck is None:
            log(f"export: no {stage} checkpoint, skipped")
            return
        save_safetensors(os.path.join(rd, stage, "model.safetensors"), ck["model"],
                         {"format": "pt", "step": ck["step"], "finished": ck.get("done", False)})
        write_json(os.path.join(rd, stage, "config.json"), dict(ck[config_key], **(extra_config or {})))
        for name, content in extra_files:
            write_json(os.path.join(rd, stage, name), content)
        log(f"export: {stage} (step {ck['step']}, {len(ck['model'])} tensors) -> {rd}/{stage}")

    export_model("vq", "vq_args")
    # "labels" is not a LlamaGen field: class k draws labels[k]
    export_model("gpt", "gpt_args", {"labels": "".join(CLASSES)}, [("generation_config.json", GENERATION)])

    ck = load_checkpoint(os.path.join(rd, "ckpt", "classifier.pt"))
    if ck is None:
        log("export: no classifier checkpoint, skipped")
    else:
        cargs = dict(ck["classifier_args"])
        model = GlyphClassifier(ClassifierArgs(**{k: v for k, v in cargs.items() if k != "arch"}))
        model.load_state_dict(ck["model"])
        model.eval()
        x_ho, _ = load_glyphs(a.data, "heldout")
        f = features(model, x_ho, torch)
        mu, sigma = f.mean(0), np.cov(f, rowvar=False)
        cfg = dict(cargs)
        cfg.update({
            "labels": "".join(CLASSES),
            "input": "RGB, NCHW, value = pixel / 127.5 - 1",
            "layers": [f"conv{i + 1}: Conv2d 3x3 stride 1 pad 1 + bias, ReLU, MaxPool 2x2" for i in range(len(cargs["channels"]))]
            + ["flatten (C, H, W) order", "fc1: Linear + ReLU -> features", "fc2: Linear -> logits"],
            "heldout_accuracy": ck.get("heldout_accuracy"),
            "fd_reference": {"file": "fd_reference.safetensors", "images": int(len(x_ho)), "split": "heldout"},
        })
        save_safetensors(os.path.join(rd, "classifier", "model.safetensors"), ck["model"],
                         {"step": ck["step"]})
        save_safetensors(os.path.join(rd, "classifier", "fd_reference.safetensors"),
                         {"mu": mu, "sigma": sigma}, {"images": len(x_ho)})
        write_json(os.path.join(rd, "classifier", "config.json"), cfg)
        log(f"export: classifier (step {ck['step']}, held-out accuracy {ck.get('heldout_accuracy')}) -> {rd}/classifier")


if __name__ == "__main__":
    main()
