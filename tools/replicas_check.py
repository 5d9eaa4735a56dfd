#!/usr/bin/env python3
"""Two `zipar serve` replicas on one PostgreSQL queue (issue 22; run by .ci/run).

    python3 tools/replicas_check.py [--zipar .build/release/zipar] [--jobs 12]

Standard library, Debian's PostgreSQL server (initdb, pg_ctl) and psql. It starts a throwaway PostgreSQL
cluster on a free loopback port (as the `postgres` user when run as root), two replicas of the embedded glyph
model on it (--parallel 1, --job-lease 3, --replica-id A and B), submits every job (four images each) to A
only, and checks, one
PASS/FAIL line each: all jobs succeed; both replicas served some (the queue is shared, each job claimed once);
each job's images equal the Images API's for its prompt and seed; then, with a second batch submitted to B, B is
killed with SIGKILL mid-run and A finishes B's jobs once their lease ran out. Exits 1 when any check fails;
the servers and the cluster are stopped at the end.
"""
import argparse
import base64
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from serve_harness import LABELS, Results, Server, call, wait_all


class Cluster:
    """A PostgreSQL cluster in a temporary folder, on 127.0.0.1:port, trust authentication."""

    def __init__(self, folder):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            raise RuntimeError("no PostgreSQL server (Debian's postgresql package) under /usr/lib/postgresql")
        self.bin = os.path.dirname(binaries[-1])
        self.data = os.path.join(folder, "data")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.as_user = []
        if os.getuid() == 0:  # the server refuses to run as root
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgres://zipar@127.0.0.1:{self.port}/postgres?sslmode=disable"

    def run(self, *command):
        subprocess.run(self.as_user + list(command), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self):
        self.run(f"{self.bin}/initdb", "-D", self.data, "-U", "zipar", "--auth=trust", "-E", "UTF8")
        self.run(f"{self.bin}/pg_ctl", "-D", self.data, "-l", os.path.join(self.data, "log"), "-w", "-o",
                 f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}", "start")
        return self

    def stop(self):
        try:
            self.run(f"{self.bin}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        except subprocess.CalledProcessError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zipar", default=".build/release/zipar")
    parser.add_argument("--jobs", type=int, default=12)
    args = parser.parse_args()
    results = Results()
    folder = tempfile.mkdtemp(prefix="zipar-pg-")
    cluster = Cluster(folder).start()
    servers = []
    try:
        flags = ["--parallel", "1", "--job-lease", "3", "--jobs-db", cluster.url]
        a = Server(args.zipar, *flags, "--replica-id", "A").start()
        b = Server(args.zipar, *flags, "--replica-id", "B").start()
        servers += [a, b]
        # Four images a job, so that A is still busy when B next looks at the queue (every second).
        requests = [{"prompt": LABELS[i % len(LABELS)], "seed": 200 + 10 * i, "schedule": "raster", "n": 4} for i in range(args.jobs)]
        ids = [call(a.url, "/v1/zipar/jobs", body)["id"] for body in requests]
        jobs = wait_all(b, ids)
        results.check("every job submitted to A succeeds", all(j["status"] == "succeeded" for j in jobs.values()),
                      f"{sum(j['status'] == 'succeeded' for j in jobs.values())}/{len(ids)}")
        served = [j.get("served_by") for j in jobs.values()]
        results.check("both replicas served jobs from the one queue", {"A", "B"} <= set(served),
                      f"A {served.count('A')}, B {served.count('B')}")
        same = sum([call(a.url, image["url"]) for image in jobs[job]["images"]]
                   == [base64.b64decode(d["b64_json"]) for d in call(b.url, "/v1/images/generations", body)["data"]]
                   for job, body in zip(ids, requests))
        results.check("each job's images equal the Images API's for its prompt and seed", same == len(ids), f"{same}/{len(ids)} identical")
        # B dies mid-run: A takes its job once the 3-s lease ran out.
        more = [call(b.url, "/v1/zipar/jobs", dict(body, seed=body["seed"] + 1000, n=1))["id"] for body in requests[:6]]
        victim, deadline = None, time.time() + 30
        while victim is None and time.time() < deadline:
            for job in more:
                state = call(a.url, f"/v1/zipar/jobs/{job}")
                if state["status"] == "running" and state.get("served_by") == "B":
                    victim = job
                    break
        b.process.kill()
        b.process.wait()
        killed = time.time()
        jobs = wait_all(a, more, seconds=60)
        results.check("after B's SIGKILL mid-job, A runs B's job and every job succeeds",
                      victim is not None and jobs[victim]["served_by"] == "A" and all(j["status"] == "succeeded" for j in jobs.values()),
                      f"B's running job {'found' if victim else 'not found'}; {sum(j['status'] == 'succeeded' for j in jobs.values())}/"
                      f"{len(more)} succeeded {time.time() - killed:.1f} s after the kill")
    finally:
        for server in servers:
            server.stop()
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"replicas: {results.passed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
