#!/usr/bin/env python3
"""Measures the decoding schedules on the conformance models: forward passes and cheap quality proxies.

Usage: measure_schedules.py --zipar PATH_TO_BINARY [--cases DIR] [--classes N] [--seeds N] [--jobs N]

For every case (a small random-weight model pair) and schedule (every window of zipar-reference, zipar and
zipar-adaptive with row start neighbour, the other row starts at three windows), runs `zipar generate --score` on
classes 0…N−1 greedily (--temperature 0) and with sampling (--temperature 1, seeds 0…S−1), CFG 4, and
prints a Markdown table per case:
  passes            mean forward passes, prefill included (greedy / sampled)
  agree             greedy: fraction of tokens equal to raster's greedy tokens for the same class
  NLL               mean teacher-forced negative log-likelihood per token under the raster model (nats;
                    ± the standard error of the mean over the images), greedy / sampled
  accepted          zipar-adaptive: accepted verifications / all verifications, greedy / sampled
Needs python3 only (standard library).
"""
import argparse, json, os, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor


def schedules(width):
    """Every window of zipar-reference, zipar and zipar-adaptive with the default row start (the pass/quality
    frontier), and the other row starts at three windows."""
    few = sorted({max(2, width // 4), width // 2, (3 * width) // 4})
    out = [("raster", [])]
    out += [(f"zipar-reference w={w}", ["--schedule", "zipar-reference", "--window", str(w)]) for w in range(2, width)]
    for name, flag, windows in (("zipar", "--window", range(1, width)), ("zipar-adaptive", "--min-window", range(2, width))):
        for w in windows:
            for start in ("neighbour", "placeholder", "shared"):
                if start == "neighbour" or w in few:
                    out.append((f"{name} {flag[2:]}={w} {start}", ["--schedule", name, flag, str(w), "--row-start", start]))
    return out


def run(zipar, case, args, label, seed, sampled, work):
    stem = os.path.join(work, f"{abs(hash((case, tuple(args), label, seed, sampled)))}")
    cmd = [zipar, "generate", "--gpt", os.path.join(case, "gpt"), "--vq", os.path.join(case, "vq"),
           "--class-label", str(label), "--cfg-scale", "4", "--seed", str(seed),
           "--temperature", "1" if sampled else "0", "--score", "--quiet",
           "--output", stem + ".png", "--tokens-out", stem + ".tokens.json", "--stats-out", stem + ".stats.json"] + args
    subprocess.run(cmd, check=True)
    tokens = json.load(open(stem + ".tokens.json"))["tokens"]
    stats = json.load(open(stem + ".stats.json"))
    return tokens, stats


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def mean_error(xs):
    """'mean ± standard error' with three decimals."""
    m = mean(xs)
    se = (sum((x - m) ** 2 for x in xs) / (len(xs) - 1) / len(xs)) ** 0.5 if len(xs) > 1 else float("nan")
    return f"{m:.3f} ± {se:.3f}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--zipar", required=True)
    p.add_argument("--cases", default="Tests/ZipARTests/Fixtures/conformance")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="zipar-measure-")
    pool = ThreadPoolExecutor(a.jobs)
    for name in sorted(os.listdir(a.cases)):
        case = os.path.join(a.cases, name)
        width = json.load(open(os.path.join(case, "case.json")))["grid"]
        rows = []
        plan = schedules(width)
        jobs = {}
        for title, args in plan:
            for label in range(a.classes):
                jobs[(title, label, 0, False)] = pool.submit(run, a.zipar, case, args, label, 0, False, work)
                for seed in range(a.seeds):
                    jobs[(title, label, seed, True)] = pool.submit(run, a.zipar, case, args, label, seed, True, work)
        results = {k: f.result() for k, f in jobs.items()}
        raster = {label: results[("raster", label, 0, False)][0] for label in range(a.classes)}
        print(f"\n### {name} ({width}×{width}, {a.classes} classes; sampled: {a.seeds} seeds each; CFG 4)\n")
        print("| schedule | passes greedy / sampled | agree with raster (greedy) | NLL greedy | NLL sampled | accepted greedy / sampled |")
        print("|---|---|---|---|---|---|")
        for title, _ in plan:
            g = [results[(title, l, 0, False)] for l in range(a.classes)]
            s = [results[(title, l, seed, True)] for l in range(a.classes) for seed in range(a.seeds)]
            agree = mean([mean([x == y for x, y in zip(t, raster[l])]) for l, (t, _) in enumerate(g)])
            def acc(rs):
                verdicts = sum(st["accepted"] + st["rejected"] for _, st in rs)
                return f"{sum(st['accepted'] for _, st in rs) / verdicts:.0%}" if verdicts else "–"
            print(f"| {title} | {mean([st['forward_passes'] for _, st in g]):.1f} / {mean([st['forward_passes'] for _, st in s]):.1f} "
                  f"| {agree:.1%} | {mean_error([st['teacher_nll'] for _, st in g])} | {mean_error([st['teacher_nll'] for _, st in s])} "
                  f"| {acc(g)} / {acc(s)} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
