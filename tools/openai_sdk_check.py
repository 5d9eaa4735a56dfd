#!/usr/bin/env python3
"""The official `openai` Python SDK against a live `zipar serve` (issue 22; run by .ci/run).

    python3 tools/openai_sdk_check.py [--zipar .build/release/zipar]

Needs the `openai` package (pip install openai) and the standard library. It starts `zipar serve` itself on
the embedded glyph model (no model flags: `prompt` is one label, "Q"), on a free loopback port (--port 0,
the port read from the line the server prints), waits for GET /health, and checks, one PASS/FAIL line each:

  a. models.list() lists the served id; images.generate(model=that id, prompt="Q", response_format="b64_json",
     extra_body={seed, schedule, window}) returns one image, a PNG whose IHDR size equals the size the server
     reports, byte-identical to `zipar generate --class-label Q` with the same seed and schedule.
  b. stream=True, partial_images=2: two image_generation.partial_image events (partial_image_index 0, 1),
     PNGs, then one image_generation.completed whose image equals a's.
  c. back-pressure, on a second server with --parallel 1 --max-queue 1 (one image running, one waiting):
     a burst of raw urllib requests gets some 429s with Retry-After (whole seconds), retry-after-ms (the
     same estimate) and OpenAI's error body {"error":{"message","type","param","code"}}; then concurrent SDK
     calls (max_retries=10) all succeed, after retries that waited the retry-after-ms the server sent (whole
     milliseconds in the SDK's log, not its jittered backoff).
  d. --api-key secret: a wrong key raises openai.AuthenticationError (401, invalid_api_key) on models.list
     and images.generate; the right key works.
  e. every server exits 0 on SIGTERM.

Exits 1 when any check fails; every server it started is stopped (SIGTERM, then waited for) at the end.
"""
import argparse
import base64
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from serve_harness import Results, Server, png_size

try:
    import openai
except ImportError:
    sys.exit("openai_sdk_check: the openai package is missing (pip install openai)")

SEED, SCHEDULE, WINDOW = 4, "zipar", 6
EXTRA = {"seed": SEED, "schedule": SCHEDULE, "window": WINDOW}


def client(server, key="unused", **options):
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, timeout=60, **options)


def raw_post(url, body, timeout=60):
    request = urllib.request.Request(url + "/v1/images/generations", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def in_threads(count, work):
    """Runs work(i) for i in 0..<count at once (a barrier lines them up); results or exceptions, in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # reported by the caller
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def http_429_count(url):
    """zipar_http_requests_total{status="429"} summed over routes, from /metrics."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("zipar_http_requests_total{") and 'status="429"' in line)


class RetryLog(logging.Handler):
    """The delays of the SDK's "Retrying request in %f seconds" log lines."""
    def __init__(self):
        super().__init__(logging.INFO)
        self.delays = []

    def emit(self, record):  # called under the handler's own lock
        if record.getMessage().startswith("Retrying request") and record.args:
            self.delays.append(float(record.args[0]))


def check_basic(results, zipar, server, scratch):
    """a and b; returns nothing (each check prints its line)."""
    sdk = client(server)
    ids = [m.id for m in sdk.models.list().data]
    results.check("a. models.list() lists the served model", ids == [server.model_id], f"ids {ids}, served {server.model_id}")
    model = ids[0] if ids else server.model_id

    response = sdk.images.generate(model=model, prompt="Q", response_format="b64_json", extra_body=EXTRA)
    image = None
    try:
        size = tuple(int(v) for v in response.size.split("x"))
        if len(response.data) != 1:
            raise ValueError(f"{len(response.data)} images")
        image = base64.b64decode(response.data[0].b64_json, validate=True)
        width, height = png_size(image)
        ok = (width, height) == size == server.size
        made = (getattr(response, "zipar", None) or [{}])[0]
        detail = (f"PNG {width}x{height}, response size {response.size}, server's {server.size[0]}x{server.size[1]}, "
                  f"{len(image)} bytes, {made.get('passes')} passes in {made.get('seconds', 0):.3f} s")
    except (ValueError, TypeError, AttributeError) as error:
        ok, detail = False, str(error)
    results.check("a. images.generate(b64_json, extra_body seed/schedule/window) returns one PNG of the model's size", ok, detail)

    cli_png = os.path.join(scratch, "cli.png")
    subprocess.run([zipar, "generate", "--class-label", "Q", "--seed", str(SEED), "--schedule", SCHEDULE,
                    "--window", str(WINDOW), "--output", cli_png, "--quiet"], check=True)
    with open(cli_png, "rb") as f:
        cli = f.read()
    results.check("a. the SDK's image equals `zipar generate --class-label Q` with the same seed and schedule", image == cli,
                  f"{len(image or b'')} vs {len(cli)} bytes")

    events = list(sdk.images.generate(model=model, prompt="Q", response_format="b64_json", stream=True, partial_images=2,
                                      extra_body=EXTRA))
    kinds = [(e.type, getattr(e, "partial_image_index", None)) for e in events]
    expected = [("image_generation.partial_image", 0), ("image_generation.partial_image", 1), ("image_generation.completed", None)]
    ok, detail = kinds == expected, f"events {kinds}"
    if ok:
        try:
            pngs = [base64.b64decode(e.b64_json, validate=True) for e in events]
            sizes = {png_size(p) for p in pngs}
            ok = sizes == {server.size}
            detail += f", PNG sizes {sorted(sizes)}"
        except (ValueError, TypeError) as error:
            ok, detail = False, f"{detail}, {error}"
    results.check("b. stream=True, partial_images=2: partial_image 0, 1, then completed, all PNGs", ok, detail)
    completed = base64.b64decode(events[-1].b64_json) if events and getattr(events[-1], "b64_json", None) else b""
    results.check("b. the streamed completed image is byte-identical to the non-streamed one", bool(image) and completed == image,
                  f"{len(completed)} vs {len(image or b'')} bytes")


def check_back_pressure(results, server):
    body = {"model": server.model_id, "prompt": "Q", "schedule": "raster"}
    # Raw HTTP first: with one image running and one waiting, the rest of a burst is refused.
    statuses, refusal = [], None
    for burst in range(3):
        answers = in_threads(8, lambda i: raw_post(server.url, dict(body, seed=100 + 10 * burst + i)))
        statuses = [a[0] if isinstance(a, tuple) else repr(a) for a in answers]
        refusals = [a for a in answers if isinstance(a, tuple) and a[0] == 429]
        if refusals:
            refusal = refusals[0]
            break
    detail = f"statuses {statuses}"
    ok = refusal is not None and all(s in (200, 429) for s in statuses)
    if refusal is not None:
        _, headers, raw = refusal
        retry_after = headers.get("Retry-After")
        try:
            error = json.loads(raw)
            shape_ok = (set(error) == {"error"} and set(error["error"]) == {"message", "type", "param", "code"}
                        and isinstance(error["error"]["message"], str) and error["error"]["type"] == "rate_limit_error"
                        and error["error"]["code"] == "queue_full")
        except (ValueError, TypeError, KeyError):
            error, shape_ok = raw, False
        retry_ms = headers.get("retry-after-ms")
        retry_ok = (retry_after is not None and retry_after.isdigit() and 1 <= int(retry_after) <= 120
                    and retry_ms is not None and retry_ms.isdigit() and int(retry_after) == max(1, -(-int(retry_ms) // 1000)))
        ok = ok and shape_ok and retry_ok and headers.get("Content-Type", "").startswith("application/json")
        detail += f"; Retry-After {retry_after!r}, retry-after-ms {retry_ms!r}; body {json.dumps(error) if shape_ok else raw[:200]!r}"
    results.check("c. raw burst on --parallel 1 --max-queue 1: some 429 with Retry-After, retry-after-ms and OpenAI's error body",
                  ok, detail)

    # Then the SDK, which retries 429s after retry-after-ms (it reads that before Retry-After).
    handler = RetryLog()
    sdk_log = logging.getLogger("openai")
    previous_level = sdk_log.level
    sdk_log.addHandler(handler)
    sdk_log.setLevel(logging.INFO)
    try:
        sdk = client(server, max_retries=10)
        for burst in range(3):  # until the server refused some (it does at once on this model)
            handler.delays.clear()
            refused_before = http_429_count(server.url)
            started = time.time()
            answers = in_threads(6, lambda i: sdk.images.generate(
                model=server.model_id, prompt="Q", response_format="b64_json",
                extra_body={"seed": 200 + 10 * burst + i, "schedule": "raster"}))
            seconds = time.time() - started
            refused = http_429_count(server.url) - refused_before
            if refused > 0 or any(isinstance(a, Exception) for a in answers):
                break
    finally:
        sdk_log.removeHandler(handler)
        sdk_log.setLevel(previous_level)
    failures = [repr(a) for a in answers if isinstance(a, Exception)]
    try:
        pngs_ok = not failures and all(png_size(base64.b64decode(a.data[0].b64_json)) == server.size for a in answers)
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        pngs_ok, failures = False, [str(error)]
    delays = handler.delays
    # A delay from retry-after-ms is whole milliseconds; the SDK's own backoff (no header) is jittered.
    honoured = bool(delays) and all(0 < d <= 120 and abs(d * 1000 - round(d * 1000)) < 1e-6 for d in delays)
    results.check("c. 6 concurrent SDK calls (max_retries=10) all succeed after 429s, waiting retry-after-ms",
                  pngs_ok and refused > 0 and honoured and len(delays) == refused,
                  f"{len(answers) - len(failures)}/6 succeeded in {seconds:.1f} s; server sent {refused:.0f} 429s; "
                  f"SDK retried {len(delays)} times after {sorted(set(delays))} s" + (f"; errors {failures}" if failures else ""))


def check_api_key(results, server):
    def expect_401(call):
        try:
            call()
        except openai.AuthenticationError as error:
            return error.status_code == 401 and error.code == "invalid_api_key", f"AuthenticationError {error.status_code} {error.code}"
        except Exception as error:
            return False, f"raised {error!r}"
        return False, "no error"

    wrong = client(server, key="wrong")
    ok_list, detail_list = expect_401(lambda: wrong.models.list())
    ok_gen, detail_gen = expect_401(lambda: wrong.images.generate(model=server.model_id, prompt="Q", extra_body=EXTRA))
    results.check("d. --api-key secret: a wrong key raises openai.AuthenticationError (401)", ok_list and ok_gen,
                  f"models.list: {detail_list}; images.generate: {detail_gen}")
    right = client(server, key="secret")
    try:
        ids = [m.id for m in right.models.list().data]
        image = base64.b64decode(right.images.generate(model=server.model_id, prompt="Q", extra_body=EXTRA).data[0].b64_json)
        ok, detail = ids == [server.model_id] and png_size(image) == server.size, f"ids {ids}, PNG {png_size(image)}"
    except Exception as error:
        ok, detail = False, repr(error)
    results.check("d. the right key works (models.list, images.generate)", ok, detail)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zipar", default=".build/release/zipar", help="the zipar binary (default: %(default)s)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers (the finally below) when stopped
    zipar = os.path.abspath(args.zipar)
    results = Results()
    servers = []
    started = time.time()

    def serve(*flags):
        server = Server(zipar, *flags)
        servers.append(server)
        return server.start()

    try:
        with tempfile.TemporaryDirectory() as scratch:
            for name, run in [("a/b", lambda: check_basic(results, zipar, serve(), scratch)),
                              ("c", lambda: check_back_pressure(results, serve("--parallel", "1", "--max-queue", "1"))),
                              ("d", lambda: check_api_key(results, serve("--api-key", "secret")))]:
                try:
                    run()
                except Exception as error:
                    results.check(f"{name}: ran to its end", False, repr(error))
    finally:
        servers = [server for server in servers if server.process is not None]  # those that started
        codes = [server.stop() for server in servers]
    results.check("e. every server exits 0 on SIGTERM", bool(codes) and all(c == 0 for c in codes), f"exit statuses {codes}")
    for server, code in zip(servers, codes):
        if code != 0:
            sys.stderr.write(f"--- {' '.join(server.command)} (exit {code}):\n" + "".join(server.log[-30:]))
    print(f"openai {openai.__version__}, {time.time() - started:.1f} s")
    print(f"openai-sdk: {results.passed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
