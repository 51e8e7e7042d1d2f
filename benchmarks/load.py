"""Load test of a live server on loopback: throughput, latency percentiles, errors and memory growth.

Usage: python benchmarks/load.py [--index DIR] [--seconds 30] [--levels 1,8,32] [--max-requests 20000]

Starts `semsearch serve` on 127.0.0.1 (a free port) over the given index (default: the project's
index/, built from the sample corpus), then for each concurrency level runs a bounded client (a
fixed time and request cap, loopback only) asking questions from benchmarks/sample_questions.json.
Reports requests/s, p50/p95/p99 latency, error count, and the server's resident memory before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).parent


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_level(url: str, questions: list[str], clients: int, seconds: float, cap: int, params: dict) -> dict:
    """Hammer /api/search with `clients` threads for `seconds` or `cap` requests, whichever first."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    counter = iter(range(cap))

    def worker(n: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                started = time.perf_counter()
                try:
                    r = http.get("/api/search", params={"q": questions[(i + n) % len(questions)], **params})
                    ok = r.status_code == 200
                    problem = f"HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    ok, problem = False, type(exc).__name__
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    (latencies.append(elapsed) if ok else errors.append(problem))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "clients": clients,
        "requests": len(latencies) + len(errors),
        "rps": len(latencies) / wall,
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "errors": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=str(HERE.parent / "index"))
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--max-requests", type=int, default=20000, help="cap per level")
    parser.add_argument("--no-summary", action="store_true", help="search without the brief")
    args = parser.parse_args()
    questions = [q["question"] for q in json.loads((HERE / "sample_questions.json").read_text())]
    port = free_port()
    # No query-vector cache: the few sample questions repeat, and every request should pay the model pass.
    env = {
        **os.environ,
        "SEMSEARCH_LOG_LEVEL": "WARNING",
        "SEMSEARCH_MAX_CONCURRENT_SEARCHES": "64",
        "SEMSEARCH_QUERY_CACHE_SIZE": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "semsearch", "serve", "--index", args.index, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        params = {"summary": "false"} if args.no_summary else {}
        run_level(url, questions, 2, 3, 200, params)  # warm-up, not reported
        before = rss_mb(server.pid)
        print(f"server RSS after warm-up: {before:.0f} MB; brief {'off' if args.no_summary else 'on'}")
        print(f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}")
        total = 0
        for level in (int(x) for x in args.levels.split(",")):
            r = run_level(url, questions, level, args.seconds, args.max_requests, params)
            total += r["requests"]
            print(
                f"{r['clients']:7d} {r['requests']:8d} {r['rps']:7.1f} {r['p50']:7.1f} {r['p95']:7.1f} "
                f"{r['p99']:7.1f} {r['errors']:6d}"
            )
        after = rss_mb(server.pid)
        print(f"server RSS after {total} requests: {after:.0f} MB ({100 * (after - before) / before:+.1f}%)")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
