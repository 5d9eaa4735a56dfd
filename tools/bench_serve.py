#!/usr/bin/env python3
"""Load test for `zipar serve`: latency and throughput at several concurrency levels (standard library only).

    tools/bench_serve.py --serve ".build/release/zipar serve --gpt-model GPT-B --random-weights 1 \
        --vq-model VQ-16 --vq-random-weights 1 --parallel 8" --prompt 207 --schedule zipar --window 8
    tools/bench_serve.py --url http://127.0.0.1:8080 --concurrency 1,2,4,8 --requests 16

With --serve it starts that command on a free port (adding --port), waits for /ready, and stops it at the
end; with --url it uses a running server. For each concurrency level C, C clients send requests one after
another (seeds differ per request) until --requests have finished; it prints per level the p50 and p95
latency, images per second over the level's wall time, the mean batch size the server reports
(`zipar[].batch_size`: the most images that shared one of the image's passes), and images/s relative to
the first level. One warm-up request runs first. --json writes the table as JSON too.
"""
import argparse
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request


def post(url, body, key, timeout):
    request = urllib.request.Request(url + "/v1/images/generations", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    if key:
        request.add_header("Authorization", "Bearer " + key)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def wait_ready(url, process, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            sys.exit(f"bench_serve: the server exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            pass
        time.sleep(0.2)
    sys.exit(f"bench_serve: {url}/ready did not answer 200 within {seconds} s")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_level(url, concurrency, requests, body, key, timeout, first_seed):
    latencies, batch_sizes, errors = [], [], []
    next_index = [0]
    lock = threading.Lock()

    def client():
        while True:
            with lock:
                i = next_index[0]
                if i >= requests:
                    return
                next_index[0] += 1
            started = time.perf_counter()
            try:
                answer = post(url, dict(body, seed=first_seed + i), key, timeout)
            except Exception as e:  # noqa: BLE001 - reported, the level goes on
                with lock:
                    errors.append(f"{type(e).__name__}: {e}")
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                batch_sizes.extend(info.get("batch_size", 1) for info in answer.get("zipar", []))

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=20, method="inclusive") if len(latencies) > 1 else latencies * 19
    return {"concurrency": concurrency, "requests": requests, "completed": len(latencies), "errors": errors,
            "p50_s": statistics.median(latencies) if latencies else None, "p95_s": q[18] if latencies else None,
            "images_per_s": len(latencies) / wall, "mean_batch_size": statistics.mean(batch_sizes) if batch_sizes else None,
            "wall_s": wall}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8080")
    ap.add_argument("--serve", help="a `zipar serve …` command to start (a --port is added)")
    ap.add_argument("--concurrency", default="1,2,4,8", help="comma-separated client counts (default 1,2,4,8)")
    ap.add_argument("--requests", type=int, default=0, help="requests per level (default: 4 × concurrency, at least 8)")
    ap.add_argument("--prompt", default="Q", help="the prompt (a class label for a class model; default Q)")
    ap.add_argument("--schedule", default="zipar")
    ap.add_argument("--window", type=int, default=None)
    ap.add_argument("--api-key", default=os.environ.get("ZIPAR_API_KEY"))
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per request (default 1800)")
    ap.add_argument("--json", help="also write the table to this file")
    a = ap.parse_args()
    if (a.url is None) == (a.serve is None):
        ap.error("give --url or --serve (one of them)")
    try:
        levels = [int(c) for c in a.concurrency.split(",")]
    except ValueError:
        ap.error(f"--concurrency {a.concurrency}: comma-separated positive integers")
    if not levels or min(levels) < 1 or a.requests < 0:
        ap.error("--concurrency takes positive integers and --requests 0 or more")

    process, url = None, a.url
    if a.serve:
        port = free_port()
        process = subprocess.Popen(shlex.split(a.serve) + ["--port", str(port)], stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url.rstrip("/"), process, 600)
        url = url.rstrip("/")
        body = {"prompt": a.prompt, "schedule": a.schedule}
        if a.window is not None:
            body["window"] = a.window
        post(url, dict(body, seed=0), a.api_key, a.timeout)  # warm-up
        rows = []
        for c in levels:
            n = a.requests or max(8, 4 * c)
            rows.append(run_level(url, c, n, body, a.api_key, a.timeout, first_seed=1000 * c))
        base = rows[0]["images_per_s"]
        print(f"{'clients':>7} {'done':>5} {'p50 s':>8} {'p95 s':>8} {'images/s':>9} {'batch':>6} {'× first':>8}")
        for r in rows:
            print(f"{r['concurrency']:>7} {r['completed']:>5} {r['p50_s'] or 0:>8.3f} {r['p95_s'] or 0:>8.3f} "
                  f"{r['images_per_s']:>9.3f} {r['mean_batch_size'] or 0:>6.2f} {r['images_per_s'] / base:>8.2f}")
            for e in r["errors"][:3]:
                print(f"        error: {e}")
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"server": a.serve or a.url, "body": body, "levels": rows}, f, indent=1)
        if any(r["errors"] for r in rows):
            sys.exit(1)
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
