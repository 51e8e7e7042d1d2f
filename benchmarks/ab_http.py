"""Paired A/B of two semsearch servers over HTTP: the same questions to both, one side after the other.

Usage: python benchmarks/ab_http.py --index HOME --a OLD_CHECKOUT [--b .]
       [--a-env KEY=VALUE ...] [--b-env KEY=VALUE ...] [--clients 1] [--requests 200] [--summary true|false]
       [--cold 3]

This machine's speed drifts by a third within minutes, more than most single changes are worth, so two
runs of scale_query.py cannot tell them apart. Here both servers (A: the semsearch package under --a with
the --a-env settings, B: under --b with --b-env) serve the same index at once, and each block of questions
goes to both, in alternating order, with a pause between blocks. With --clients N, N clients share each
block. The table gives each side's percentiles, throughput and server CPU time per question, the median
of the per-question differences (B - A), and how many questions both sides answered identically (results
and brief). With --cold N, each side is first launched N times (alternating, checksums verified on load)
and timed from launch to its first answer. Two settings of one checkout: `--a . --b . --b-env SEMSEARCH_WORKERS=2`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from pathlib import Path

from scale_query import (
    Client,
    launch,
    load_questions,
    percentiles,
    processes,
    settle,
    stop,
    warm_page_cache,
)

from semsearch.index import current_version, version_dir


def ask_block(
    url: str, questions: list[tuple[int, str]], clients: int, summary: str
) -> tuple[dict[int, float], dict[int, bytes]]:
    """ms and response body per question, the questions shared by `clients` concurrent clients."""
    took: dict[int, float] = {}
    bodies: dict[int, bytes] = {}
    queue = list(reversed(questions))
    lock = threading.Lock()

    def client() -> None:
        with Client(url) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    i, q = queue.pop()
                started = time.perf_counter()
                status, body = http.get("/api/search", {"q": q, "summary": summary})
                if status != 200:
                    raise RuntimeError(f"/api/search answered {status}")
                took[i] = (time.perf_counter() - started) * 1000
                bodies[i] = body

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return took, bodies


def cold_starts(args: argparse.Namespace, question: str) -> None:
    """Launch each side `args.cold` times, the order alternating, and print its launch-to-first-answer times."""
    seconds: dict[str, list[float]] = {"A": [], "B": []}
    for n in range(args.cold):
        for name in "AB" if n % 2 else "BA":
            code, env = (args.a, args.a_env) if name == "A" else (args.b, args.b_env)
            server, _, times = launch(args.index, True, question, code.resolve(), dict(p.split("=", 1) for p in env))
            stop(server)
            seconds[name].append(times["first_answer_s"])
    for name, found in seconds.items():
        listed = ", ".join(f"{s:.2f}" for s in found)
        print(f"{name}: launch to first answer, checksums verified: median {statistics.median(found):.2f} s ({listed})")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a server and its worker processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in processes(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime and stime, the 14th and 15th fields of stat
    return total / ticks


def answer(body: bytes) -> dict:
    """A search response without its timing, which differs between any two runs."""
    found = json.loads(body)
    found.pop("took_ms", None)
    return found


def main() -> None:
    """Print both sides' p50/p95/p99 and req/s, and the paired difference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--a", type=Path, required=True, help="folder holding the semsearch package of side A")
    parser.add_argument("--b", type=Path, default=Path(__file__).parent.parent, help="side B (default: this checkout)")
    for side in "ab":
        parser.add_argument(
            f"--{side}-env",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=f"a setting for side {side.upper()}'s server (repeat for several)",
        )
    parser.add_argument(
        "--questions",
        choices=("scifact", "sample"),
        default="sample",
        help="SciFact test queries (needs --scifact) or the sample news questions, repeated to fill",
    )
    parser.add_argument("--scifact", type=Path, default=None, help="the SciFact BEIR folder (for --questions scifact)")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--summary", default="true", choices=["true", "false"])
    parser.add_argument("--block", type=int, default=20, help="questions asked of one side before the other")
    parser.add_argument(
        "--cold",
        type=int,
        default=0,
        help="first launch each side this many times, alternating, and time launch to first answer "
        "(checksums verified on load, as by default)",
    )
    parser.add_argument(
        "--gap",
        type=float,
        default=0.3,
        help="seconds between blocks, so one side's idle threads (OpenBLAS spins ~0.1 s) "
        "have stopped before the other side's block",
    )
    args = parser.parse_args()
    wanted = 1 + args.warmup + args.requests
    found = load_questions(args.questions, args.scifact)
    questions = (found * (wanted // len(found) + 1))[:wanted]
    if args.cold:
        cold_starts(args, questions[0])
    sides = {}
    for name, code, env in (("A", args.a, args.a_env), ("B", args.b, args.b_env)):
        extra = dict(pair.split("=", 1) for pair in env)
        server, url, _ = launch(args.index, False, questions[0], code.resolve(), extra)
        sides[name] = (server, url)
    took: dict[str, dict[int, float]] = {"A": {}, "B": {}}
    bodies: dict[str, dict[int, bytes]] = {"A": {}, "B": {}}
    busy = {"A": 0.0, "B": 0.0}  # seconds each side spent answering its counted blocks
    # The server's CPU time per question: on a machine shared with other work, wall time waits for the CPU,
    # while CPU time is about what the same work takes on an idle machine.
    used = {"A": 0.0, "B": 0.0}
    try:
        for server, _ in sides.values():
            settle(server)
        warm_page_cache(version_dir(args.index, current_version(args.index)))
        asked = list(enumerate(questions[1 : 1 + args.warmup + args.requests]))
        for block, start in enumerate(range(0, len(asked), args.block)):
            part = asked[start : start + args.block]
            for name in "AB" if block % 2 else "BA":
                time.sleep(args.gap)
                started, cpu = time.perf_counter(), cpu_seconds(sides[name][0].pid)
                times, answers = ask_block(sides[name][1], part, args.clients, args.summary)
                bodies[name].update(answers)
                counted = {i: ms for i, ms in times.items() if i >= args.warmup}
                if counted:
                    busy[name] += time.perf_counter() - started
                    used[name] += cpu_seconds(sides[name][0].pid) - cpu
                    took[name].update(counted)
    finally:
        for server, _ in sides.values():
            stop(server)
    print(
        f"{args.requests} questions to each side in blocks of {args.block}, {args.clients} client(s), "
        f"summary={args.summary}; A = {args.a} {' '.join(args.a_env)}, B = {args.b} {' '.join(args.b_env)}"
    )
    for name in "AB":
        p50, p95, p99 = percentiles(list(took[name].values()))
        n = len(took[name])
        print(
            f"{name}: p50 {p50:6.2f}  p95 {p95:6.2f}  p99 {p99:6.2f} ms  {n / busy[name]:5.1f} req/s  "
            f"server CPU {used[name] / n * 1000:5.1f} ms per question"
        )
    differences = [took["B"][i] - took["A"][i] for i in took["A"]]
    print(
        f"B - A per question: median {statistics.median(differences):+.2f} ms, "
        f"B faster on {sum(d < 0 for d in differences)} of {len(differences)}"
    )
    same = sum(answer(bodies["A"][i]) == answer(bodies["B"][i]) for i in bodies["A"])
    print(f"identical answers (results and brief, timing aside): {same} of {len(bodies['A'])}")


if __name__ == "__main__":
    main()
