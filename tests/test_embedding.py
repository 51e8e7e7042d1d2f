"""The packaged model through both backends, and the embedding cache."""

from __future__ import annotations

import numpy as np
import pytest

from semsearch.embedding import _cast_model, cast_session, get_embedder, to_float32
from semsearch.embedding_cache import EmbeddingCache

TEXTS = [
    "The port strike entered its third day.",
    "Inflation slowed to 2.6 percent in March, the statistics office said, strengthening the case for a cut. " * 4,
    "Hi",
]


@pytest.mark.model
def test_vectors_are_unit_length_and_384_wide():
    vectors = get_embedder("torch").encode(TEXTS)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.model
def test_onnx_backend_gives_the_same_vectors_as_torch():
    torch_vectors = get_embedder("torch").encode(TEXTS)
    onnx_vectors = get_embedder("onnx").encode(TEXTS, batch_size=2)
    assert float((torch_vectors * onnx_vectors).sum(axis=1).min()) > 0.9999
    assert get_embedder("onnx").count_tokens(TEXTS) == get_embedder("torch").count_tokens(TEXTS)


@pytest.mark.model
def test_long_texts_are_truncated_at_the_model_window_not_the_tokenizer_default():
    for backend in ("torch", "onnx"):
        embedder = get_embedder(backend)
        assert embedder.count_tokens(["word " * 400]) == [256]
        base = "the harbour strike " * 60  # 180 tokens
        # a change after token 128 still counts (the tokenizer file's own limit would hide it) ...
        near = embedder.encode([base + "cranes automation union", base + "football final trophy"])
        assert float(near[0] @ near[1]) < 0.9999
        # ... and a change past the model's 256-token window does not
        far = embedder.encode([base * 2 + "cranes", base * 2 + "football"])
        assert float(far[0] @ far[1]) > 0.9999


@pytest.mark.model
def test_cache_returns_stored_vectors_without_the_model(tmp_path):
    embedder = get_embedder("torch")
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first, fresh = cache.embed(embedder, TEXTS, batch_size=8)
    again, fresh_again = cache.embed(embedder, TEXTS[::-1], batch_size=8)
    assert fresh == 3 and fresh_again == 0
    assert np.array_equal(first[::-1], again)


def test_a_cache_of_the_earlier_layout_keeps_its_vectors(tmp_path):
    import sqlite3

    from semsearch.embedding import MODEL_NAME
    from semsearch.embedding_cache import text_key

    old = sqlite3.connect(tmp_path / "cache.sqlite")  # one text, one row: the layout before model names told apart
    old.execute("CREATE TABLE vec (key BLOB PRIMARY KEY, model TEXT, v BLOB)")
    stored = np.arange(384, dtype=np.float32)
    with old:
        old.execute("INSERT INTO vec VALUES (?, ?, ?)", (text_key(TEXTS[0]), MODEL_NAME, stored.tobytes()))
    old.close()
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    vectors, fresh = cache.embed(None, TEXTS[:1], batch_size=8)  # type: ignore[arg-type]  # nothing to embed
    assert fresh == 0 and np.array_equal(vectors[0], stored)
    assert cache.missing(TEXTS) == TEXTS[1:]
    cache.close()
    assert EmbeddingCache(tmp_path / "cache.sqlite").missing(TEXTS[:1]) == []  # opened again: nothing lost


@pytest.mark.model
def test_onnx_is_the_default_and_falls_back_to_torch_when_it_cannot_load(monkeypatch, caplog):
    from semsearch import embedding
    from semsearch.config import Settings

    assert Settings().embed_backend == "onnx" and Settings().query_precision == "int8"
    real = embedding.Embedder

    def no_onnx_runtime(backend: str = "torch", path=None, **options):  # a fake: this machine has ONNX Runtime
        if backend == "onnx":
            raise ImportError("No module named 'onnxruntime'")
        return real(backend, path, **options)

    monkeypatch.setattr(embedding, "Embedder", no_onnx_runtime)
    embedding._load.cache_clear()
    try:
        fallback = embedding._load("onnx")
        assert fallback.backend == "torch" and "using torch" in caplog.text
    finally:
        embedding._load.cache_clear()


@pytest.mark.model
def test_int8_queries_stay_close_to_fp32_and_leave_the_bulk_passes_alone():
    from semsearch.embedding import Embedder

    fp32, int8 = Embedder("onnx"), Embedder("onnx", query_precision="int8")
    assert np.array_equal(fp32.encode(TEXTS), int8.encode(TEXTS))  # bulk passes keep their own weights
    for text in TEXTS:
        exact, quick = fp32.encode_query(text), int8.encode_query(text)
        assert not np.array_equal(exact, quick)  # the int8 weights really ran
        assert float(exact @ quick) > 0.97 and abs(float(np.linalg.norm(quick)) - 1) < 1e-5


@pytest.mark.model
def test_unloadable_int8_weights_fall_back_to_fp32_queries(tmp_path, monkeypatch, caplog):
    import shutil

    from semsearch.embedding import Embedder, model_path, onnx_model

    cache = tmp_path / "semsearch"
    cache.mkdir()
    shutil.copy(onnx_model(model_path()), cache / "minilm-l6-v2-fp32.onnx")
    (cache / "minilm-l6-v2-int8.onnx").write_bytes(b"not a model")  # as a broken or foreign file would be
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fallback = Embedder("onnx", query_precision="int8")
    assert fallback.query_precision == "fp32" and "the fp32 weights are used instead" in caplog.text
    assert np.array_equal(fallback.encode_query(TEXTS[0]), Embedder("onnx").encode_query(TEXTS[0]))
    # a build asking for int8 vectors is told, before it embeds anything, that they will be fp32 ones
    bulk = Embedder("onnx", vector_precision="int8")
    assert bulk.vector_precision == "fp32"
    assert np.array_equal(bulk.encode(TEXTS), Embedder("onnx").encode(TEXTS))


@pytest.mark.model
def test_int8_vectors_run_the_int8_weights_in_every_bulk_pass():
    from semsearch.embedding import Embedder

    fp32, int8 = Embedder("onnx"), Embedder("onnx", vector_precision="int8")
    assert (int8.vector_precision, int8.query_precision) == ("int8", "fp32")
    exact, quick = fp32.encode(TEXTS), int8.encode(TEXTS)
    assert not np.array_equal(exact, quick)
    assert float((exact * quick).sum(axis=1).min()) > 0.97
    spans = [[(0, 10)] for _ in TEXTS]
    assert not np.array_equal(fp32.encode_spans(TEXTS, spans)[0], int8.encode_spans(TEXTS, spans)[0])
    assert np.array_equal(fp32.encode_query(TEXTS[0]), int8.encode_query(TEXTS[0]))  # queries keep their own


def test_float16_vectors_become_float32_exactly_without_the_onnx_package():
    half = np.random.default_rng(0).standard_normal((40, 384)).astype(np.float16)
    half[0, :5] = [np.inf, -np.inf, np.nan, 6e-8, 65504]  # the edges of float16: infinities, NaN, subnormal, largest
    assert cast_session() is not None  # ONNX Runtime is a dependency: the fast path is the one tested
    assert np.array_equal(to_float32(half), half.astype(np.float32), equal_nan=True)
    assert to_float32(half[:2]).dtype == np.float32  # small inputs go through numpy


def test_the_cast_model_is_what_the_onnx_builder_would_write():
    onnx = pytest.importorskip("onnx")
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Cast", ["half"], ["full"], to=onnx.TensorProto.FLOAT)],
        "to_float32",
        [onnx.helper.make_tensor_value_info("half", onnx.TensorProto.FLOAT16, None)],
        [onnx.helper.make_tensor_value_info("full", onnx.TensorProto.FLOAT, None)],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)], ir_version=8)
    assert _cast_model() == model.SerializeToString()
