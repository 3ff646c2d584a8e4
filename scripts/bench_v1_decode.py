#!/usr/bin/env python3
"""Single-stream decode speed through `/v1/chat/completions`, side by side, in one run.

    scripts/bench_v1_decode.py [--model GGUF] [--tokens 256] [--runs 5] [--temperature 0.7] NAME=BINARY ...

For each binary in turn: start `BINARY serve` with the embedded engine on the GGUF (default the
assets' Qwen2.5-Coder-0.5B; the server of scripts/bench_plans.py), send one warm-up request, then --runs streamed requests one after
another (the same prompt, its own seed each, max_tokens --tokens, `ignore_eos` is not OpenAI's
so the prompt asks for a long answer), as an OpenAI client would. Decode speed of a run =
(completion tokens − 1) ÷ (time of the last chunk − time of the first); the table prints the
median and the range. Only the Python standard library.
"""

import argparse
import json
import os
import statistics
import time
import urllib.request

from bench_plans import Server

PROMPT = ("Write a long, detailed guide to a week in Helsinki: neighbourhoods, museums, saunas, "
          "food, day trips and practical tips. Use full paragraphs.")


def one(base, model_id, tokens, temperature, seed):
    body = json.dumps({
        "model": model_id, "stream": True, "max_tokens": tokens, "temperature": temperature,
        "seed": seed, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": PROMPT}],
    }).encode()
    req = urllib.request.Request(base + "/v1/chat/completions", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    first = last = None
    used = None
    with urllib.request.urlopen(req, timeout=600) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[5:])
            if chunk.get("usage"):
                used = chunk["usage"]["completion_tokens"]
            if any(c.get("delta", {}).get("content") for c in chunk.get("choices", [])):
                now = time.time()
                first = first or now
                last = now
    if not used or used < 2 or last == first:
        return None, used
    return (used - 1) / (last - first), used


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+", metavar="NAME=BINARY")
    assets = os.environ.get("TRIPWRIGHT_ASSETS_DIR", "assets")
    ap.add_argument("--model", default=os.path.join(assets, "models", "qwen2.5-coder-0.5b-instruct.gguf"))
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--temperature", type=float, default=0.7)
    a = ap.parse_args()
    print(f"# bench_v1_decode: {os.path.basename(a.model)}, {a.runs} streamed requests of up to "
          f"{a.tokens} tokens at temperature {a.temperature}, one at a time; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f} at start")
    rows = []
    for spec in a.binaries:
        name, _, binary = spec.partition("=")
        server = Server(binary, a.model)
        try:
            with urllib.request.urlopen(server.base + "/v1/models") as r:
                model_id = json.load(r)["data"][0]["id"]
            one(server.base, model_id, 16, a.temperature, 0)
            rates, counts = [], []
            for i in range(a.runs):
                rate, used = one(server.base, model_id, a.tokens, a.temperature, i + 1)
                if rate:
                    rates.append(rate)
                    counts.append(used)
            rows.append((name, rates, counts))
        finally:
            server.stop()
    print(f"{'binary':<12} {'median tok/s':>12} {'min':>7} {'max':>7} {'tokens/run':>11}")
    for name, rates, counts in rows:
        if not rates:
            print(f"{name:<12} {'—':>12}")
            continue
        print(f"{name:<12} {statistics.median(rates):>12.1f} {min(rates):>7.1f} {max(rates):>7.1f} "
              f"{statistics.median(counts):>11.0f}")
    print(f"# load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
