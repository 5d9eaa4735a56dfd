#!/usr/bin/env python3
"""Greedy tokens of the shipped text glyph model from transformers' own generate, and zipar's against them.

  check_text_model.py [--model Sources/zipar/DefaultModel/text] [--out Tests/ZipARTests/Fixtures/textglyphs/greedy.json]
                      [--zipar .build/release/zipar]

For each prompt in PROMPTS and each guidance scale in SCALES, `JanusForConditionalGeneration.generate(
generation_mode="image", do_sample=False, guidance_scale=S)` on the exported folder (raster, greedy) gives
the 144 image tokens; they are written to --out (the fixture `swift test` compares the Swift engine with,
in TextGlyphModelTests). With --zipar, the script also runs `zipar generate --model DIR --prompt P
--temperature 0 --cfg-scale S --tokens-out …` and reports whether every token sequence is equal (exit 1 if
not).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "demo"))
sys.path.insert(0, os.path.join(REPO, "tools", "janus"))
from common import setup_torch, write_json  # noqa: E402

PROMPTS = ["a red Z on yellow", "the digit 7, blue on white", "green letter k on black", "a pink Q on a brown background",
           "the number 0 in cyan on a purple background", "white on red: the letter A", "", "an orange 5 on gray"]
SCALES = [3.0, 1.5]  # transformers 5.23 generate fails at 1 (no guidance)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(REPO, "Sources", "zipar", "DefaultModel", "text"))
    ap.add_argument("--out", default=os.path.join(REPO, "Tests", "ZipARTests", "Fixtures", "textglyphs", "greedy.json"))
    ap.add_argument("--zipar", default=None, help="zipar binary to compare")
    a = ap.parse_args()
    torch = setup_torch(2)
    from transformers import AutoTokenizer, JanusForConditionalGeneration
    from make_janus_cases import hf_generate, template
    model = JanusForConditionalGeneration.from_pretrained(a.model).eval()
    with open(os.path.join(a.model, "generation_config.json")) as f:  # from_pretrained drops generation_kwargs
        model.generation_config.generation_kwargs = json.load(f)["generation_kwargs"]
    tok = AutoTokenizer.from_pretrained(a.model)
    ids = {"bos": model.generation_config.bos_token_id, "pad": model.generation_config.pad_token_id}
    runs = []
    with torch.no_grad():
        for prompt in PROMPTS:
            cond = tok(template(prompt)).input_ids
            for scale in SCALES:
                tokens = hf_generate(model, cond, scale, ids, model.generation_config.max_length)
                runs.append({"prompt": prompt, "cfg_scale": scale, "input_ids": cond, "tokens": tokens})
    write_json(a.out, {"source": "transformers JanusForConditionalGeneration.generate(generation_mode='image', do_sample=False)",
                       "runs": runs})
    print(f"{a.out}: {len(runs)} greedy runs")
    if not a.zipar:
        return
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        for i, r in enumerate(runs):
            t = os.path.join(d, f"{i}.json")
            subprocess.run([a.zipar, "generate", "--model", a.model, "--prompt", r["prompt"], "--temperature", "0",
                            "--cfg-scale", str(r["cfg_scale"]), "--output", os.path.join(d, f"{i}.png"), "--tokens-out", t,
                            "--quiet"], check=True)
            with open(t) as f:
                mine = json.load(f)
            mine = mine["tokens"] if isinstance(mine, dict) else mine
            same = mine == r["tokens"]
            bad += not same
            print(f"{'equal ' if same else 'DIFFER'} cfg {r['cfg_scale']} {r['prompt']!r}")
    print(f"zipar vs transformers: {len(runs) - bad}/{len(runs)} token sequences equal")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
