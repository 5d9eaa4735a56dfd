#!/usr/bin/env python3
"""Writes the trained text-to-image glyph model as a transformers `JanusForConditionalGeneration` folder.

  export_text.py [--run text] [--out DIR]

From RUN/ckpt/text.pt (train_text.py), RUN/tokenizer/tokenizer.json and the glyph VQ (--vq) it builds the
transformers model (the language model and generation_* modules from the checkpoint by name, the VQ
from the glyph VQ with LlamaGen's names mapped to transformers', a one-layer SigLIP tower that image
generation never reads), checks that transformers computes the same logits as the training module and
the same pixels as the glyph VQ, and writes DIR (default RUN/janus):
  config.json, model.safetensors, generation_config.json   JanusForConditionalGeneration.save_pretrained
                                                           (sampling defaults: GENERATION below)
  tokenizer.json, tokenizer_config.json, special_tokens_map.json
  eval_captions.json          the palette and the held-out captions `zipar eval` scores (captions.py)
  fd_reference.safetensors    mu [F], sigma [F, F] of the glyph classifier's features of the held-out real
                              images of this data (the Frechet distance reference for prompts)
"""
import argparse
import copy
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "demo"))
sys.path.insert(0, os.path.join(REPO, "tools", "janus"))
sys.path.insert(0, HERE)
from captions import heldout_captions  # noqa: E402
from common import load_checkpoint, load_folder, run_dir, save_safetensors, setup_torch, to_model_range, write_json  # noqa: E402
from janus_tokenizer import BOS, EOS, PAD, special_ids  # noqa: E402
from make_glyphs import NAMED_PALETTE  # noqa: E402
from tiny_janus import TinyJanus, TinyJanusArgs  # noqa: E402

BOI = "<begin_of_image>"
# The sampling settings zipar uses for this model unless flags say otherwise.
GENERATION = dict(guidance_scale=2.0, temperature=0.7, top_k=10, top_p=1.0)


def transformers_vq_name(name):
    """LlamaGen's VQ names (tools/demo/models.py) -> transformers' JanusVQVAE names; None: not kept."""
    if name == "quantize.codebook_used":
        return None
    name = re.sub(r"^encoder\.conv_blocks\.", "encoder.down.", name)
    name = re.sub(r"^decoder\.conv_blocks\.", "decoder.up.", name)
    name = re.sub(r"\.res\.(\d+)\.", r".block.\1.", name)
    return re.sub(r"\.mid\.(\d)\.", lambda m: ".mid." + ["block_1", "attn_1", "block_2"][int(m.group(1))] + ".", name)


def build(margs, ids, grid, torch):
    from transformers import JanusConfig, JanusForConditionalGeneration, JanusVisionConfig, JanusVQVAEConfig, LlamaConfig
    text = LlamaConfig(vocab_size=margs.vocab_size, hidden_size=margs.hidden_size,
                       intermediate_size=margs.intermediate_size, num_hidden_layers=margs.num_hidden_layers,
                       num_attention_heads=margs.num_attention_heads, num_key_value_heads=margs.num_attention_heads,
                       max_position_embeddings=256, rms_norm_eps=margs.rms_norm_eps,
                       rope_parameters={"rope_type": "default", "rope_theta": margs.rope_theta},
                       pad_token_id=ids[PAD], bos_token_id=ids[BOS], eos_token_id=ids[EOS], tie_word_embeddings=True)
    patch = 4
    vision = JanusVisionConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=1, mlp_ratio=1.0,
                               image_size=grid * patch, patch_size=patch, num_image_tokens=grid * grid,
                               projection_dim=margs.hidden_size, depth=2)
    vq = JanusVQVAEConfig(embed_dim=margs.embed_dim, num_embeddings=margs.codes, latent_channels=64, base_channels=32,
                          channel_multiplier=[1, 1, 2], num_res_blocks=2, projection_dim=margs.hidden_size,
                          image_token_embed_dim=margs.hidden_size, num_hidden_layers=margs.aligner_layers)
    config = JanusConfig(text_config=text, vision_config=vision, vq_config=vq, image_token_id=ids["<image_placeholder>"])
    torch.manual_seed(0)
    return JanusForConditionalGeneration(config).eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default="text")
    ap.add_argument("--out", default=None)
    ap.add_argument("--vq", default=os.path.join(REPO, "Sources", "zipar", "DefaultModel", "vq"))
    ap.add_argument("--classifier", default=os.path.join(REPO, "Sources", "zipar", "DefaultModel", "classifier"))
    ap.add_argument("--captions", type=int, default=1080, help="held-out captions in eval_captions.json")
    a = ap.parse_args()
    torch = setup_torch(2)
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast
    rd = run_dir(a.run)
    out = a.out or os.path.join(rd, "janus")
    ck = load_checkpoint(os.path.join(rd, "ckpt", "text.pt"))
    if ck is None:
        raise SystemExit(f"no checkpoint {rd}/ckpt/text.pt: run train_text.py first")
    if not ck.get("done"):
        print(f"warning: the checkpoint is not finished (step {ck['step']}); exporting it anyway", flush=True)
    margs = TinyJanusArgs(**ck["model_args"])
    tiny = TinyJanus(margs).eval()
    tiny.load_state_dict(ck["model"])
    tok = Tokenizer.from_file(os.path.join(rd, "tokenizer", "tokenizer.json"))
    ids = special_ids(tok)

    from models import ClassifierArgs, GlyphClassifier, VQArgs, VQModel
    glyph_vq, _ = load_folder(VQModel, VQArgs, a.vq, torch)
    z = np.load(os.path.join(rd, "glyphs", "heldout.npz"))
    grid = z["images"].shape[1] // 4
    model = build(margs, ids, grid, torch)
    state = model.state_dict()
    new = {"model." + k: v for k, v in tiny.state_dict().items()}
    for k, v in glyph_vq.state_dict().items():
        name = transformers_vq_name(k)
        if name is not None:
            new["model.vqmodel." + name] = v
    unknown = [k for k in new if k not in state]
    assert not unknown, unknown
    for k, v in new.items():
        assert state[k].shape == v.shape, (k, state[k].shape, v.shape)
    left = [k for k in state if k not in new and not k.startswith(("model.vision_model.", "model.aligner.", "lm_head."))]
    assert not left, f"not set from the checkpoint: {left}"
    model.load_state_dict(new, strict=False)
    model.generation_config.bos_token_id, model.generation_config.eos_token_id = ids[BOS], ids[EOS]
    model.generation_config.pad_token_id = ids[PAD]
    model.generation_config.do_sample = True
    for k, v in GENERATION.items():
        setattr(model.generation_config, k, v)
    model.generation_config.num_return_sequences = 1
    model.generation_config.max_length = model.config.text_config.max_position_embeddings
    model.generation_config.generation_kwargs = {"boi_token_id": ids[BOI]}
    model.generation_config.boi_token_id = ids[BOI]

    # transformers computes what the training module computes, and decodes what the glyph VQ decodes
    from train_text import template
    codes = torch.from_numpy(np.load(os.path.join(rd, "text_tokens.npz"))["heldout_codes"][:3].astype(np.int64))
    with torch.no_grad():
        for i, prompt in enumerate(["a red Q on a yellow background", "the digit 7, blue on white", "green letter k on black"]):
            p = tok.encode(template(prompt)).ids
            mine = tiny(torch.tensor([p]), torch.ones(1, len(p), dtype=torch.bool), codes[i:i + 1])[0]
            x = torch.cat([model.get_input_embeddings()(torch.tensor([p])),
                           model.prepare_embeddings_for_image_generation(codes[i:i + 1, :-1])], dim=1)
            h = model.model.language_model(inputs_embeds=x, use_cache=False).last_hidden_state[0, len(p) - 1:]
            theirs = model.model.generation_head(h)
            err = (mine - theirs).abs().max().item()
            assert err < 1e-4, f"logits differ from transformers' by {err}"
        px = model.model.vqmodel.decode(codes)
        ref = glyph_vq.decode_code(codes.view(-1, grid, grid))
        err = (px - ref).abs().max().item()
        assert err < 1e-4, f"the transformers VQ decodes {err} away from the glyph VQ"
    print(f"checks: logits and pixels equal transformers' (VQ max error {err:.1e})", flush=True)

    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    fast = PreTrainedTokenizerFast(tokenizer_object=copy.deepcopy(tok), bos_token=BOS, eos_token=EOS, pad_token=PAD,
                                   model_max_length=256)
    fast.save_pretrained(out)
    tok.save(os.path.join(out, "tokenizer.json"))
    for extra in ("chat_template.jinja",):
        if os.path.exists(os.path.join(out, extra)):
            os.remove(os.path.join(out, extra))
    write_json(os.path.join(out, "eval_captions.json"), {
        "palette": [{"name": n, "rgb": list(c)} for n, c in NAMED_PALETTE],
        "captions": heldout_captions(z["labels"], z["colors"], a.captions, 0)})
    clf, _ = load_folder(GlyphClassifier, ClassifierArgs, a.classifier, torch)
    with torch.no_grad():
        feats = torch.cat([clf.features(to_model_range(z["images"][i:i + 512])) for i in range(0, len(z["images"]), 512)])
    f = feats.double().numpy()
    save_safetensors(os.path.join(out, "fd_reference.safetensors"),
                     {"mu": f.mean(0), "sigma": np.cov(f, rowvar=False)}, {"images": len(f)})
    print(f"export: step {ck['step']} -> {out}", flush=True)


if __name__ == "__main__":
    main()
