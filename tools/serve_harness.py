"""What the tools that test a live `zipar serve` share: PASS/FAIL lines, a server on a free port, PNG sizes.

Standard library only; imported by openai_sdk_check.py, web_page_check.py and jobs_restart_check.py.
"""
import json
import re
import signal
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Class labels of the glyph model the job tools cycle through.
LABELS = "QZ7AKMR2XW"


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
        return ok


class Server:
    """`zipar serve --port 0 FLAGS…`; start() waits for the listening line and GET /health."""
    LISTENING = re.compile(r"serving (\S+) \((\d+)x(\d+)\) on (http://[^\s:]+:(\d+))")

    def __init__(self, zipar, *flags):
        # Each server its own in-memory job store unless the flags name one.
        store = [] if "--jobs-db" in flags else ["--jobs-db", ":memory:"]
        self.command = [zipar, "serve", "--host", "127.0.0.1", "--port", "0", *store, *flags]
        self.process = None
        self.log = []
        self.listening = threading.Event()
        self.url = self.model_id = self.size = None
        self.returncode = None

    def start(self, seconds=60):
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read_stderr, daemon=True).start()
        deadline = time.time() + seconds
        while not self.listening.wait(0.1):
            if self.process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{' '.join(self.command)} did not start:\n" + "".join(self.log[-20:]))
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.url}/health did not answer 200 within {seconds} s")

    def _read_stderr(self):
        for line in self.process.stderr:
            self.log.append(line)
            match = self.LISTENING.search(line)
            if match and not self.listening.is_set():
                self.model_id, self.size, self.url = match.group(1), (int(match.group(2)), int(match.group(3))), match.group(4)
                self.listening.set()

    def stop(self):
        """SIGTERM, then wait (SIGKILL after 30 s); the exit status, None when it had to be killed."""
        if self.process is None or self.returncode is not None:
            return self.returncode
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self.returncode = None
        return self.returncode


def png_size(data):
    """(width, height) from a PNG's IHDR; ValueError when `data` is not a PNG."""
    if len(data) < 24 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError(f"not a PNG (starts {data[:16]!r})")
    return struct.unpack(">II", data[16:24])


def call(url, path, body=None):
    """GET `path` (POST `body` as JSON when given): the PNG's bytes for an image, else the decoded JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        raw = response.read()
        return raw if response.headers.get("Content-Type") == "image/png" else json.loads(raw)


def wait_all(server, ids, seconds=120):
    """Polls the jobs `ids` on `server` until each has ended (or `seconds` pass); {id: job}."""
    deadline = time.time() + seconds
    jobs = {}
    while time.time() < deadline:
        jobs = {job: call(server.url, f"/v1/zipar/jobs/{job}") for job in ids}
        if all(j["status"] in ("succeeded", "failed", "cancelled") for j in jobs.values()):
            break
        time.sleep(0.2)
    return jobs
