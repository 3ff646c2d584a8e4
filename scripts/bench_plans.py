#!/usr/bin/env python3
"""Side-by-side plan speed of Tripwright binaries, end to end over HTTP, in one run.

    scripts/bench_plans.py [--days 3] [--concurrent 4] [--model GGUF] NAME=BINARY ...

For each binary in turn (never two at once): start `BINARY serve` on a free loopback port over
a fresh data directory (the assets of $TRIPWRIGHT_ASSETS_DIR; the embedded engine with --model,
by default the assets' Qwen2.5-Coder-0.5B; only settings every version knows), make one
plan without timing it (imports the places, trains the forest, loads the model), then time

  - one plan alone, and
  - --concurrent plans started at once,

each a Helsinki plan of --days days with its own wishes (so the plan cache never answers).
Times are read from the plan's own event stream (`/api/plans/{id}/events`, as the browser
follows it): to the first event, to the first prose text, to the end. Every binary gets the
same requests in the same order. Needs only the Python standard library.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

WISHES = [
    "quiet hotel with a sauna, museums, coffee",
    "design shops, architecture, good coffee",
    "parks, sea views, a relaxed pace",
    "history, churches, local food",
    "art galleries, bakeries, walking",
    "family trip, museums, parks",
    "nightlife, restaurants, music",
    "markets, islands, seafood",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, model):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data = tempfile.mkdtemp(prefix="bench-plans-")
        env = dict(os.environ)
        env.pop("TRIPWRIGHT_CONFIG", None)
        env["TRIPWRIGHT_LLM__PROVIDER"] = "embedded"
        env["TRIPWRIGHT_LLM__MODEL_PATH"] = model
        env["TRIPWRIGHT_WEB__MAX_RUNNING"] = "16"
        self.log = open(os.path.join(self.data, "server.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "--data-dir", self.data, "serve", "--addr", f"127.0.0.1:{self.port}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 300
        while True:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2).read()
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.log.flush()
                    sys.exit(f"{binary} did not start; see {self.log.name}")
                time.sleep(0.5)
        # One identity (cookie and token) for all requests.
        with urllib.request.urlopen(self.base + "/api/session") as r:
            self.cookie = r.headers["Set-Cookie"].split(";")[0]
            self.csrf = json.load(r)["csrf"]

    def plan(self, days, wishes):
        """Starts a plan and follows its events; returns the timings in seconds."""
        body = json.dumps({"destination": "Helsinki", "days": days, "prefs": wishes}).encode()
        t0 = time.time()
        req = urllib.request.Request(
            self.base + "/api/plans", data=body, method="POST",
            headers={"Content-Type": "application/json", "Cookie": self.cookie,
                     "X-CSRF-Token": self.csrf})
        with urllib.request.urlopen(req) as r:
            plan_id = json.load(r)["id"]
        req = urllib.request.Request(
            f"{self.base}/api/plans/{plan_id}/events", headers={"Cookie": self.cookie})
        first = first_text = None
        end = "?"
        event = None
        with urllib.request.urlopen(req, timeout=1800) as r:
            for raw in r:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                    now = time.time() - t0
                    if first is None:
                        first = now
                    if event == "text" and first_text is None:
                        first_text = now
                    if event in ("done", "failed", "cancelled"):
                        end = event
                        break
        return {"first_event": first, "first_text": first_text,
                "done": time.time() - t0, "end": end}

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


def run(binary, model, days, concurrent):
    server = Server(binary, model)
    try:
        server.plan(1, "warm-up: imports, the forest and the model")
        alone = server.plan(days, WISHES[0])
        results = [None] * concurrent
        def one(i):
            results[i] = server.plan(days, WISHES[1 + i % (len(WISHES) - 1)] + f" #{i}")
        threads = [threading.Thread(target=one, args=(i,)) for i in range(concurrent)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return alone, results
    finally:
        server.stop()


def fmt(x):
    return "—" if x is None else f"{x:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+", metavar="NAME=BINARY")
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--concurrent", type=int, default=4)
    assets = os.environ.get("TRIPWRIGHT_ASSETS_DIR", "assets")
    ap.add_argument("--model", default=os.path.join(assets, "models", "qwen2.5-coder-0.5b-instruct.gguf"))
    a = ap.parse_args()
    load = os.getloadavg()
    print(f"# bench_plans: Helsinki, {a.days} days, model {os.path.basename(a.model)}; 1 plan alone, then "
          f"{a.concurrent} at once; {os.cpu_count()} cores; load average {load[0]:.2f} at start")
    rows = []
    for spec in a.binaries:
        name, _, binary = spec.partition("=")
        alone, many = run(binary, a.model, a.days, a.concurrent)
        rows.append((name, alone, many))
        print(f"{name}: alone {alone}; at once {many}", file=sys.stderr)
    print(f"{'binary':<10} {'alone: 1st text s':>17} {'alone: done s':>13} "
          f"{'x' + str(a.concurrent) + ': 1st text median s':>22} {'x' + str(a.concurrent) + ': done median s':>18} "
          f"{'x' + str(a.concurrent) + ': done max s':>15} ends")
    for name, alone, many in rows:
        texts = [m["first_text"] for m in many if m["first_text"] is not None]
        dones = [m["done"] for m in many]
        ends = ",".join(sorted({alone["end"], *(m["end"] for m in many)}))
        print(f"{name:<10} {fmt(alone['first_text']):>17} {fmt(alone['done']):>13} "
              f"{fmt(statistics.median(texts) if texts else None):>22} "
              f"{fmt(statistics.median(dones)):>18} {fmt(max(dones)):>15} {ends}")
    print(f"# load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
