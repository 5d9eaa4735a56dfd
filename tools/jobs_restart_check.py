#!/usr/bin/env python3
"""Killing `zipar serve` (SIGKILL) with queued jobs and starting it again loses none of them (issue 22; run by
.ci/run).

    python3 tools/jobs_restart_check.py [--zipar .build/release/zipar] [--jobs 8]

Standard library only. On the embedded glyph model it starts a server with --parallel 1 and a job database in
a temporary folder, submits --jobs jobs (raster, fixed seeds), kills the server at once with SIGKILL while
most still wait (the database then holds queued and running jobs), starts a new server on the same database,
and checks, one PASS/FAIL line each: every job id answers, every job succeeds, and each job's image is
byte-identical to what POST /v1/images/generations makes for the same prompt and seed. Exits 1 when any
check fails; servers are stopped at the end.
"""
import argparse
import base64
import os
import sqlite3
import sys
import tempfile

from serve_harness import LABELS, Results, Server, call, wait_all


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zipar", default=".build/release/zipar")
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    results = Results()
    requests = [{"prompt": LABELS[i % len(LABELS)], "seed": 100 + i, "schedule": "raster"} for i in range(args.jobs)]
    with tempfile.TemporaryDirectory() as folder:
        database = os.path.join(folder, "jobs.sqlite")
        first = Server(args.zipar, "--parallel", "1", "--jobs-db", database).start()
        ids = [call(first.url, "/v1/zipar/jobs", body)["id"] for body in requests]
        first.process.kill()
        first.process.wait()
        with sqlite3.connect(database) as db:
            statuses = dict(db.execute("SELECT status, COUNT(*) FROM job GROUP BY status").fetchall())
        unfinished = statuses.get("queued", 0) + statuses.get("running", 0)
        results.check("SIGKILL left unfinished jobs in the database", unfinished > 0, f"statuses at the kill: {statuses}")
        second = Server(args.zipar, "--parallel", "2", "--jobs-db", database).start()
        try:
            states = {job: state["status"] for job, state in wait_all(second, ids).items()}
            results.check("every job is there after the restart and succeeds", all(s == "succeeded" for s in states.values()),
                          f"{sum(s == 'succeeded' for s in states.values())}/{len(ids)} succeeded")
            same = 0
            for job, body in zip(ids, requests):
                image = call(second.url, f"/v1/zipar/jobs/{job}")["images"][0]
                stored = call(second.url, image["url"])
                direct = call(second.url, "/v1/images/generations", body)["data"][0]["b64_json"]
                same += stored == base64.b64decode(direct)
            results.check("each job's image equals the Images API's for its prompt and seed", same == len(ids), f"{same}/{len(ids)} identical")
        finally:
            results.check("the restarted server exits 0 on SIGTERM", second.stop() == 0)
    print(f"jobs-restart: {results.passed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
