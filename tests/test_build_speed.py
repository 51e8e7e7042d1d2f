"""Late chunking: sentence vectors pooled from the chunk's own model pass, their cache keys, builds that use them."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from semsearch.build import build
from semsearch.config import Settings
from semsearch.embedding import LATE_MODEL_NAME, MODEL_NAME, cached_as, get_embedder
from semsearch.embedding_cache import EmbeddingCache, late_key
from semsearch.index import Index

from .conftest import CORPUS

pytestmark = pytest.mark.model  # every test here runs the real model

TITLE = "Port strike"
SENTENCES = [
    "The port strike entered its third day on Tuesday.",
    "Union leaders said talks with the terminal operators had failed.",
    "Container ships waited offshore as cargo piled up on the quays.",
]
CHUNK = TITLE + "\n" + " ".join(SENTENCES)


def spans_of(text: str, sentences: list[str]) -> list[tuple[int, int]]:
    """Character spans of sentences in text."""
    return [(text.index(s), text.index(s) + len(s)) for s in sentences]


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_the_chunk_vector_of_a_late_pass_is_the_ordinary_one(backend):
    embedder = get_embedder(backend)
    vectors, _ = embedder.encode_spans([CHUNK, "Hi"], [spans_of(CHUNK, SENTENCES), []])
    assert float((vectors * embedder.encode([CHUNK, "Hi"])).sum(axis=1).min()) > 0.9999


def test_backends_pool_the_same_sentence_vectors():
    spans = [spans_of(CHUNK, SENTENCES)]
    _, onnx = get_embedder("onnx").encode_spans([CHUNK], spans)
    _, torch = get_embedder("torch").encode_spans([CHUNK], spans)
    assert float((unit(onnx[0]) * unit(torch[0])).sum(axis=1).min()) > 0.9999


def test_a_span_past_the_model_window_has_no_vector():
    long = "word " * 300 + "The strike ended."
    _, pooled = get_embedder("onnx").encode_spans([long], [[(0, 4), (len(long) - 17, len(long))]])
    assert not np.isnan(pooled[0][0]).any() and np.isnan(pooled[0][1]).all()


def test_late_vectors_have_their_own_cache_entries(tmp_path):
    embedder = get_embedder("onnx")
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    where = [[(0, a, b)] for a, b in spans_of(CHUNK, SENTENCES)]
    chunks, late, passes = cache.embed_late(embedder, [CHUNK], where, batch_size=8)
    assert passes == 1 and late.shape == (3, 384)
    # the chunk vector is the ordinary one, so an ordinary lookup is served from the cache ...
    again, fresh = cache.embed(embedder, [CHUNK], batch_size=8)
    assert fresh == 0 and np.array_equal(again, chunks)
    # ... but a separately embedded sentence never gets a late vector, nor the reverse
    alone, fresh = cache.embed(embedder, SENTENCES, batch_size=8)
    assert fresh == 3 and float((alone * late).sum(axis=1).max()) < 0.999
    stored = dict(cache.file.db.execute("SELECT key, model FROM vectors"))
    assert [stored[late_key([CHUNK], w)] for w in where] == [LATE_MODEL_NAME] * 3
    # a second late request is served whole; the same sentence in another chunk is a new key
    _, late_again, passes = cache.embed_late(embedder, [CHUNK], where, batch_size=8)
    assert passes == 0 and np.array_equal(late_again, late)
    other = "Rail strike\n" + SENTENCES[0]
    assert late_key([other], [(0, 12, len(other))]) != late_key([CHUNK], where[0])


def test_a_sentence_in_two_chunks_gets_both_contexts(tmp_path):
    embedder = get_embedder("onnx")
    first = TITLE + "\n" + " ".join(SENTENCES[:2])
    second = TITLE + "\n" + " ".join(SENTENCES[1:])
    shared = [(0, *spans_of(first, SENTENCES[1:2])[0]), (1, *spans_of(second, SENTENCES[1:2])[0])]
    _, late, _ = EmbeddingCache(tmp_path / "c.sqlite").embed_late(embedder, [first, second], [shared], batch_size=8)
    _, pooled = embedder.encode_spans([first, second], [[shared[0][1:]], [shared[1][1:]]])
    assert float(late[0] @ unit(pooled[0][0] + pooled[1][0])) > 0.9999


def test_a_sentence_longer_than_the_window_gets_its_own_pass(tmp_path):
    embedder = get_embedder("onnx")
    chunk = "word " * 300 + "The strike ended."
    where = [[(0, len(chunk) - 17, len(chunk))]]
    _, late, _ = EmbeddingCache(tmp_path / "c.sqlite").embed_late(embedder, [chunk], where, batch_size=8)
    assert float(late[0] @ embedder.encode(["The strike ended."])[0]) > 0.9999


def test_late_vectors_of_unrelated_sentences_of_one_chunk_stay_apart():
    embedder = get_embedder("onnx")
    sentences = [
        "The harbour board agreed to dredge the outer channel.",
        "A local bakery won a national award for its rye bread.",
        "Heavy snow closed three mountain passes overnight.",
    ]
    chunk = " ".join(sentences)
    _, [pooled] = embedder.encode_spans([chunk], [spans_of(chunk, sentences)])
    late, alone = unit(pooled), embedder.encode(sentences)
    # pooled without centring, the chunk's context put them at cosine 0.7 or more to each other
    assert (late @ late.T)[~np.eye(3, dtype=bool)].max() < 0.4
    # each is still about its own sentence, nearest that sentence read alone
    assert float(np.diag(late @ alone.T).min()) > 0.6
    assert (np.argmax(late @ alone.T, axis=1) == np.arange(3)).all()


def test_a_late_build_keeps_the_layout_and_is_reused_only_by_late_builds(tmp_path):
    src = tmp_path / "news"
    src.mkdir()
    for name in ("harbor_strike_ledger.txt", "rates.csv"):
        shutil.copy(CORPUS / name, src / name)
    separate = Settings(index_dir=tmp_path / "a", cache_dir=tmp_path / "cache")
    late = Settings(index_dir=tmp_path / "b", cache_dir=tmp_path / "cache", sentence_vectors="late")
    report_a, report_b = build([src], separate), build([src], late)
    a, b = Index(separate.index_dir, MODEL_NAME), Index(late.index_dir, MODEL_NAME)
    assert (report_a.chunks, report_a.sentences) == (report_b.chunks, report_b.sentences)
    assert b.manifest.notes["sentence_vectors"] == "late-centred-0.5"
    rows = np.arange(report_a.sentences)
    similarity = (a.vectors_of(rows) * b.vectors_of(rows)).sum(axis=1)
    assert 0.5 < float(similarity.mean()) < 0.99  # the same sentences, made another way
    assert build([src], late).embedded_texts == 0  # unchanged: the late version is reused
    # a separate build over the late version must not keep its late sentence vectors
    switched = build([src], late.model_copy(update={"sentence_vectors": "separate"}))
    assert switched.embedded_texts == 0  # served from the cache under their own keys
    c = Index(late.index_dir, MODEL_NAME)
    assert c.manifest.notes["sentence_vectors"] == "separate"
    assert np.allclose(c.vectors_of(rows), a.vectors_of(rows), atol=1e-3)


def test_int8_vectors_are_cached_apart_and_a_switch_rebuilds_in_full(tmp_path):
    src = tmp_path / "news"
    src.mkdir()
    shutil.copy(CORPUS / "harbor_strike_ledger.txt", src)
    fp32 = Settings(index_dir=tmp_path / "home", cache_dir=tmp_path / "cache")
    int8 = fp32.model_copy(update={"vector_precision": "int8"})
    first = build([src], fp32)
    before = Index(fp32.index_dir, MODEL_NAME)
    rows = np.arange(first.sentences)
    exact = before.vectors_of(rows)
    switched = build([src], int8)
    # nothing of the fp32 version is reused, and the fp32 cache entries do not answer for int8 ones
    assert switched.embedded_texts == first.embedded_texts > 0
    after = Index(fp32.index_dir, MODEL_NAME)
    assert after.manifest.notes["vector_precision"] == "int8"
    quick = after.vectors_of(rows)
    assert not np.array_equal(exact, quick) and float((exact * quick).sum(axis=1).min()) > 0.95
    cache = EmbeddingCache(tmp_path / "cache" / "embeddings.sqlite")
    models = {m for (m,) in cache.file.db.execute("SELECT model FROM vectors")}
    assert models == {cached_as("fp32"), cached_as("int8")} == {MODEL_NAME, MODEL_NAME + "#int8"}
    assert build([src], int8).embedded_texts == 0  # unchanged: the int8 version is reused
    assert build([src], fp32).embedded_texts == 0  # back to fp32: all from the cache, under fp32's name
    assert np.allclose(Index(fp32.index_dir, MODEL_NAME).vectors_of(rows), exact, atol=1e-3)
