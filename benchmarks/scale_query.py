"""Query latency, per-stage breakdown, cold start and memory of `semsearch serve` over one index home.

Usage: python benchmarks/scale_query.py --index HOMES/1m --scifact DATA/scifact
       [--questions scifact|sample] [--requests 300] [--levels 1,8] [--warmup 10] [--profile]
       [--client stdlib|httpx]

1. Cold start, twice: `semsearch serve` launched as a subprocess on 127.0.0.1; time from Popen to the
   port accepting connections and to the first 200 from /api/search (brief on) — once with the default
   SEMSEARCH_VERIFY_ON_LOAD (checksums every file before serving) and once with it off. The OS page cache
   is whatever earlier runs left (warm: the files were just built or read), which the table says.
2. On the second server, after `--warmup` requests that are not counted and once its background read-ahead
   is done (its mapped file pages stop growing): p50/p95/p99 of /api/search with and
   without the brief (`summary=false`), 1 client and 8 concurrent clients, `--requests` each. Each row asks
   questions no earlier row asked (cycling only when the set runs out), so caches of earlier questions do
   not flatter it, and each row starts on a warm OS page cache (the index files are read just before):
   this VM pages out file pages untouched for 60 s (DAMON), which a dedicated server does not do; pass
   --cold-cache to skip that.
3. Per-stage medians over the first `--requests` questions from `debug=true` (embed, retrieve, brief,
   serialize = the service's to_dict) and the remainder of the client's latency (JSON encoding and HTTP
   on loopback).
4. Server RSS (anonymous and file-backed) after the run, per million chunks.
5. With --profile, the same questions in-process with the Index's methods timed by kind (ANN, BM25,
   SQLite row fetches, layout arrays, stored vectors), so `retrieve` and `brief` split further, plus the cost
   of encoding a real response body as /api/search does.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

from semsearch.config import get_settings
from semsearch.index import served_manifest, version_dir

HERE = Path(__file__).parent
LEVEL_NAMES = {True: "with brief", False: "no brief (summary=false)"}
# Index methods on the query path, by the kind of work they do.
KINDS = {
    "search_chunks": "ann",
    "lexical_top": "bm25",
    "lexical_scores": "bm25",
    "filtered_chunk_ids": "sqlite rows",
    "chunks": "layout arrays",
    "sentence_ids_of": "sqlite rows",
    "sentence_facts": "layout arrays",
    "sentence_spans": "layout arrays",
    "articles": "sqlite rows",
    "texts": "sqlite rows",
    "stories_of": "sqlite rows",
    "newest_published": "sqlite rows",
    "chunk_vectors": "stored vectors",
    "vectors_of": "stored vectors",
}


def load_questions(kind: str, scifact: Path | None) -> list[str]:
    """SciFact test queries (for SciFact-derived indexes) or the sample news questions."""
    if kind == "sample":
        return [q["question"] for q in json.loads((HERE / "sample_questions.json").read_text())]
    if scifact is None:
        raise SystemExit("--questions scifact needs --scifact DIR (the SciFact BEIR folder)")
    judged = {line.split("\t")[0] for line in (scifact / "qrels" / "test.tsv").read_text().splitlines()[1:]}
    rows = [json.loads(line) for line in (scifact / "queries.jsonl").read_text().splitlines() if line.strip()]
    return [r["text"] for r in rows if str(r["_id"]) in judged]


def processes(pid: int) -> list[int]:
    """A process and its descendants (`serve --workers N` answers from N child processes)."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return [pid] + [p for c in children for p in processes(c)]


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon, RssFile and VmHWM of a process and its descendants, summed, in MB (pages that
    several workers map count once per worker)."""
    out: dict[str, float] = {}
    for p in processes(pid):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = out.get(key, 0.0) + int(line.split()[1]) / 1024
    return out


def speed_probe() -> float:
    """ms of a fixed pure-Python loop, best of three: this VM's speed drifts by a third within minutes,
    so rows of runs taken apart compare only alongside it (340 ms on a quiet moment here)."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(6_000_000):
            total += i * i
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


class Client:
    """One keep-alive connection: the standard library's or httpx's, which costs more of its own per request
    (0.6 ms more on a 20 kB search body here, 1.8 ms more on /api/health)."""

    def __init__(self, url: str, kind: str = "stdlib") -> None:
        self.kind = kind
        if kind == "httpx":
            self.http = httpx.Client(base_url=url, timeout=120)
        else:
            parts = urlsplit(url)
            self.http = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def get(self, path: str, params: dict) -> tuple[int, bytes]:
        """Status and body of one GET."""
        if self.kind == "httpx":
            r = self.http.get(path, params=params)
            return r.status_code, r.content
        self.http.request("GET", f"{path}?{urlencode(params)}")
        r = self.http.getresponse()
        return r.status, r.read()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.http.close()


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99."""
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], q[98]


def launch(
    index: Path,
    verify: bool,
    question: str,
    code: Path | None = None,
    settings: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str, dict]:
    """Start the server (of the semsearch package under `code`, with extra env `settings`, if given) and time
    it to listening and to the first answered search."""
    port = free_port()
    # No query-vector cache: rows and the stage split ask questions again, which it would answer without the model.
    env = {
        **os.environ,
        "SEMSEARCH_LOG_LEVEL": "WARNING",
        "SEMSEARCH_MAX_CONCURRENT_SEARCHES": "64",
        "SEMSEARCH_QUERY_CACHE_SIZE": "0",
        "SEMSEARCH_VERIFY_ON_LOAD": "true" if verify else "false",
        **(settings or {}),
    }
    if code is not None:  # `python -m` puts the working directory first on the path, so run there too
        env["PYTHONPATH"] = str(code)
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "semsearch",
            "serve",
            "--index",
            str(Path(index).resolve()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        cwd=code,
    )
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.01)
    listening = time.perf_counter()
    url = f"http://127.0.0.1:{port}"
    r = httpx.get(f"{url}/api/search", params={"q": question}, timeout=600)
    r.raise_for_status()
    answered = time.perf_counter()
    return server, url, {"verify": verify, "listening_s": listening - started, "first_answer_s": answered - started}


def stop(server: subprocess.Popen) -> None:
    """End a server this script started."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def warm_page_cache(version_dir: Path) -> None:
    """Read every file of the version once, so the kernel holds its pages."""
    block = bytearray(4 << 20)
    for path in version_dir.iterdir():
        with path.open("rb", buffering=0) as fh:
            while fh.readinto(block):
                pass


def settle(server: subprocess.Popen, timeout: float = 180.0) -> float:
    """Wait until the server's read-ahead is done (its mapped file pages stop growing); returns seconds waited."""
    started, last, steady = time.perf_counter(), -1.0, 0
    while steady < 4 and time.perf_counter() - started < timeout:
        now = memory_mb(server.pid)["RssFile"]
        steady = steady + 1 if now == last else 0
        last = now
        time.sleep(0.5)
    return time.perf_counter() - started


def run_level(url: str, questions: list[str], clients: int, total: int, params: dict, kind: str = "stdlib") -> dict:
    """`total` requests spread over `clients` threads, each with its own keep-alive connection."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        nonlocal errors
        with Client(url, kind) as http:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                started = time.perf_counter()
                status, _ = http.get("/api/search", {"q": questions[i % len(questions)], **params})
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if status == 200:
                        latencies.append(elapsed)
                    else:
                        errors += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    p50, p95, p99 = percentiles(latencies)
    return {
        "clients": clients,
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "errors": errors,
    }


def stage_medians(url: str, questions: list[str], summary: bool, kind: str = "stdlib") -> dict[str, float]:
    """Medians of the server's debug timings and of what the client saw beyond them."""
    stages: dict[str, list[float]] = defaultdict(list)
    with Client(url, kind) as http:
        for q in questions:
            started = time.perf_counter()
            _, content = http.get("/api/search", {"q": q, "summary": str(summary).lower(), "debug": "true"})
            client_ms = (time.perf_counter() - started) * 1000
            body = json.loads(content)
            for stage, ms in body["timings"].items():
                stages[stage].append(ms)
            stages["took_ms"].append(body["took_ms"])
            stages["http+json"].append(client_ms - body["took_ms"] - body["timings"]["serialize"])
            stages["client"].append(client_ms)
            stages["kB"].append(len(content) / 1000)
    return {stage: statistics.median(values) for stage, values in stages.items()}


@contextmanager
def timed_index_methods(totals: dict[str, float], stage: list[str]) -> Iterator[None]:
    """Time the Index's query-path methods (outermost calls only) into totals['<stage>.<kind>'].

    Beside wall time, the calling thread's CPU time: on a shared machine that is close to what the
    same single-threaded work (SQLite, FTS5) costs on an idle one.
    """
    from semsearch.index import Index

    depth = [0]
    # The query path changes between commits: time whichever of these methods exist.
    originals = {name: getattr(Index, name) for name in KINDS if hasattr(Index, name)}

    def wrap(name: str, method: Callable) -> Callable:
        def timed(*args, **kwargs):
            depth[0] += 1
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    totals[f"{stage[0]}.{KINDS[name]}"] += (time.perf_counter() - started) * 1000
                    totals[f"{stage[0]}.{KINDS[name]} cpu"] += (time.thread_time() - cpu) * 1000

        return timed

    for name, method in originals.items():
        setattr(Index, name, wrap(name, method))
    try:
        yield
    finally:
        for name, method in originals.items():
            setattr(Index, name, method)


def profile_in_process(index: Path, questions: list[str]) -> None:
    """Per-kind split of retrieve and brief, in-process, and the cost of encoding the response."""
    from fastapi.responses import JSONResponse

    import semsearch.service as engine_module
    from semsearch.contract import SearchRequest
    from semsearch.retrieval import Retriever
    from semsearch.service import SearchService

    service = SearchService(get_settings().model_copy(update={"index_dir": index, "query_cache_size": 0}))
    for q in questions[:3]:  # loads the model and touches the index pages
        service.search(SearchRequest(q=q))
    stage = ["embed"]
    totals: dict[str, float] = defaultdict(float)
    per_query: dict[str, list[float]] = defaultdict(list)
    original_retrieve, original_summarize = Retriever.retrieve, engine_module.summarize

    def retrieve(self, *args, **kwargs):
        stage[0] = "retrieve"
        return original_retrieve(self, *args, **kwargs)

    def summarize(*args, **kwargs):
        stage[0] = "brief"
        return original_summarize(*args, **kwargs)

    Retriever.retrieve, engine_module.summarize = retrieve, summarize
    try:
        with timed_index_methods(totals, stage):
            for q in questions:
                totals.clear()
                cpu = time.process_time()
                response = service.search(SearchRequest(q=q, debug=True))
                per_query["query cpu (all threads)"].append((time.process_time() - cpu) * 1000)
                for name, ms in response.timings.items():
                    per_query[name].append(ms)
                for key, ms in totals.items():
                    per_query[key].append(ms)
                started = time.perf_counter()
                body = response.to_dict()
                to_dict = time.perf_counter()
                encoded = JSONResponse(body).body  # what /api/search sends
                done = time.perf_counter()
                per_query["serialize.to_dict"].append((to_dict - started) * 1000)
                per_query["serialize.json"].append((done - to_dict) * 1000)
                per_query["response kB"].append(len(encoded) / 1000)
    finally:
        Retriever.retrieve, engine_module.summarize = original_retrieve, original_summarize
    print(
        "\nIn-process split (brief on), median ms per query; a kind is the Index methods of that kind; "
        "'cpu' = CPU time of the query thread in them:"
    )
    print(f"{'part':34} {'median ms':>9} {'p95 ms':>8}")
    for key in sorted(per_query):
        values = per_query[key] + [0.0] * (len(questions) - len(per_query[key]))
        print(f"{key:34} {statistics.median(values):9.2f} {percentiles(values)[1]:8.2f}")


def code_state() -> str:
    """The commit measured, and whether semsearch/ had uncommitted changes."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "semsearch"], cwd=HERE, capture_output=True, text=True)
    return f"commit {head.strip()}{' + uncommitted changes in semsearch/' if dirty.stdout.strip() else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", choices=("scifact", "sample"), default="scifact")
    parser.add_argument("--scifact", type=Path, default=None, help="the SciFact BEIR folder (for --questions scifact)")
    parser.add_argument(
        "--requests", type=int, default=300, help="requests per level; also how many questions the stage split uses"
    )
    parser.add_argument("--levels", default="1,8")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="also split the stages in-process")
    parser.add_argument("--cold-cache", action="store_true", help="do not read the index files before each row")
    parser.add_argument(
        "--client",
        choices=("stdlib", "httpx"),
        default="stdlib",
        help="the HTTP client measuring latency (httpx adds 0.6-1.8 ms of its own per request)",
    )
    args = parser.parse_args()
    questions = load_questions(args.questions, args.scifact)
    manifest = served_manifest(args.index)
    if manifest is None:
        parser.error(f"no readable index at {args.index}")
    chunks = manifest.counts.chunks
    vectors = manifest.vectors
    backend, workers = get_settings().embed_backend, get_settings().workers  # what the server will read too
    print(
        f"index {args.index}: {manifest.counts}, {vectors['type']}"
        f"{' efSearch ' + str(vectors['efSearch']) if 'efSearch' in vectors else ''}; embed backend {backend}; "
        f"{workers} server process{'es' if workers > 1 else ''}; {len(questions)} {args.questions} questions; "
        f"{code_state()}; loadavg at start {os.getloadavg()}; "
        f"speed probe {speed_probe():.0f} ms"
    )
    if "synthetic" in manifest.notes:
        print(f"synthetic: real SciFact chunks replicated with perturbed vectors {manifest.notes['synthetic']}")

    server, _, cold = launch(args.index, True, questions[0])
    stop(server)
    server, url, cold_fast = launch(args.index, False, questions[0])
    try:
        print(f"\n{'cold start':28} {'to listening':>12} {'to first answer':>15}")
        for c in (cold, cold_fast):
            label = "verify on load (default)" if c["verify"] else "SEMSEARCH_VERIFY_ON_LOAD=false"
            print(f"{label:28} {c['listening_s']:11.2f}s {c['first_answer_s']:14.2f}s")
        with Client(url, args.client) as http:
            for i in range(args.warmup):
                http.get("/api/search", {"q": questions[-1 - i % len(questions)]})
        waited = settle(server)  # rows measure a serving index, not one still being read ahead
        print(
            f"\nHTTP on loopback ({args.client} client), {args.requests} requests per row, "
            f"warm-up of {args.warmup} excluded, "
            f"after the server's read-ahead ({waited:.0f} s after the warm-up)"
        )
        print(f"{'':26} {'clients':>7} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}  loadavg")
        row = 0
        for summary in (True, False):
            params = {} if summary else {"summary": "false"}
            for clients in (int(x) for x in args.levels.split(",")):
                if not args.cold_cache:
                    warm_page_cache(version_dir(args.index, manifest.version))
                fresh = [questions[(row * args.requests + i) % len(questions)] for i in range(args.requests)]
                row += 1
                r = run_level(url, fresh, clients, args.requests, params, args.client)
                print(
                    f"{LEVEL_NAMES[summary]:26} {clients:7d} {r['rps']:6.1f} {r['p50']:7.1f} {r['p95']:7.1f} "
                    f"{r['p99']:7.1f} {r['errors']:6d}  {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
        print(
            "\nPer-stage medians, 1 client, debug=true, questions of the first row asked again (ms; serialize = "
            "the service's to_dict; http+json = client latency - took_ms - serialize)"
        )
        for summary in (True, False):
            m = stage_medians(url, questions[: args.requests], summary, args.client)
            print(f"{LEVEL_NAMES[summary]:26} " + "  ".join(f"{k} {v:.2f}" for k, v in m.items()), flush=True)
        mem = memory_mb(server.pid)
        print(
            f"\nserver memory after the run: RSS {mem['VmRSS']:.0f} MB (anon {mem['RssAnon']:.0f}, file-backed "
            f"{mem['RssFile']:.0f}), peak {mem['VmHWM']:.0f} MB; {chunks:,} chunks → "
            f"{mem['VmRSS'] / chunks * 1e6:.0f} MB RSS per million chunks"
        )
    finally:
        stop(server)
    if args.profile:
        profile_in_process(args.index, questions[: args.requests])
    print(f"loadavg at end {os.getloadavg()}; speed probe {speed_probe():.0f} ms")


if __name__ == "__main__":
    main()
