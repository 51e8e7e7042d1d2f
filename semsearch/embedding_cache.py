"""The content-hash embedding cache: vectors of texts embedded before, so a rebuild embeds only new text."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .embedding import CACHE_SLICE, DIMENSION, Embedder, Encoder, Occurrence, cached_as
from .index.vector_cache import VectorCacheFile


def text_key(text: str) -> bytes:
    """Cache key of an embedded text."""
    return hashlib.sha256(text.encode("utf-8")).digest()[:16]


class EmbeddingCache:
    """Vectors of texts embedded before, keyed by content hash, so rebuilds skip unchanged text.

    Vectors are kept under the name of the weights (``precision``) and pooling that made them, so one
    cache serves builds of either precision and never answers one with the other's vectors.
    """

    def __init__(self, path: Path, precision: str = "fp32") -> None:
        self.model = cached_as(precision)
        self.late_model = cached_as(precision, late=True)
        self.file = VectorCacheFile(path)

    def embed(
        self, embedder: Encoder, texts: Sequence[str], batch_size: int, progress: bool = False
    ) -> tuple[np.ndarray, int]:
        """Vectors for texts from the cache where present, from the model otherwise; also the count embedded."""
        keys = [text_key(t) for t in texts]
        found = self.file.found(keys, self.model)
        missing = sorted({k: i for i, k in enumerate(keys) if k not in found}.values())
        # Stored slice by slice, so a build that is killed keeps what it already paid for.
        for start in tqdm(
            range(0, len(missing), CACHE_SLICE),
            desc="embedding",
            unit="slice",
            disable=not progress or len(missing) <= CACHE_SLICE,
        ):
            part = missing[start : start + CACHE_SLICE]
            fresh = embedder.encode([texts[i] for i in part], batch_size=batch_size)
            self.file.store({keys[i]: fresh[j] for j, i in enumerate(part)}, self.model)
            found.update({keys[i]: fresh[j] for j, i in enumerate(part)})
        return _stack(found, keys), len(missing)

    def embed_late(
        self,
        embedder: Embedder,
        chunks: Sequence[str],
        sentences: Sequence[Sequence[Occurrence]],
        batch_size: int,
        progress: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Chunk vectors, and sentence vectors pooled from the same passes (late chunking); also the count embedded.

        ``sentences`` gives, per sentence, where it occurs: (chunk number, start, end) in the chunk's text.
        A sentence in two chunks (the overlap) gets the mean of both contexts. Late vectors are stored
        under their own model name and a key of their contexts, so they never answer for a separately
        embedded sentence, nor for the same sentence in other chunks.
        """
        chunk_keys = [text_key(t) for t in chunks]
        late_keys = [late_key(chunks, where) for where in sentences]
        found = self.file.found(chunk_keys, self.model) | self.file.found(late_keys, self.late_model)
        spans_of: dict[int, list[Occurrence]] = {i: [] for i, k in enumerate(chunk_keys) if k not in found}
        for s, key in enumerate(late_keys):
            if key not in found:
                for c, start, end in sentences[s]:
                    spans_of.setdefault(c, []).append((s, start, end))
        parts = _slices(sorted(spans_of), spans_of)
        for part in tqdm(parts, desc="embedding", unit="slice", disable=not progress or len(parts) < 2):
            texts = [chunks[c] for c in part]
            vectors, pooled = embedder.encode_spans(
                texts, [[(a, b) for _, a, b in spans_of[c]] for c in part], batch_size
            )
            fresh_chunks = {chunk_keys[c]: vectors[j] for j, c in enumerate(part)}
            fresh_sentences = _late_vectors(embedder, texts, [spans_of[c] for c in part], pooled, late_keys)
            self.file.store(fresh_chunks, self.model)
            self.file.store(fresh_sentences, self.late_model)
            found.update(fresh_chunks)
            found.update(fresh_sentences)
        return _stack(found, chunk_keys), _stack(found, late_keys), len(spans_of)

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts this cache holds no vector for, in first-seen order."""
        wanted = {text_key(t): t for t in texts}
        held = self.file.held(list(wanted), self.model)
        return [text for key, text in wanted.items() if key not in held]

    def close(self) -> None:
        """Release the cache's file."""
        self.file.close()


def late_key(chunks: Sequence[str], where: Sequence[Occurrence]) -> bytes:
    """Cache key of a late-chunked sentence vector: every chunk text it is pooled from, and its span in each."""
    digest = hashlib.sha256()
    for c, start, end in where:
        digest.update(f"{start}:{end}:{len(chunks[c])}\x00".encode())
        digest.update(chunks[c].encode("utf-8"))
    return digest.digest()[:16]


def _slices(needed: list[int], spans_of: dict[int, list[Occurrence]]) -> list[list[int]]:
    """Chunk numbers in runs of about CACHE_SLICE, never parting two chunks that share a sentence."""
    parts: list[list[int]] = []
    for c in needed:
        shared = bool(parts) and {s for s, _, _ in spans_of[parts[-1][-1]]} & {s for s, _, _ in spans_of[c]}
        if parts and (shared or len(parts[-1]) < CACHE_SLICE):
            parts[-1].append(c)
        else:
            parts.append([c])
    return parts


def _late_vectors(
    embedder: Embedder, texts: list[str], spans: list[list[Occurrence]], pooled: list[np.ndarray], keys: list[bytes]
) -> dict[bytes, np.ndarray]:
    """Unit sentence vectors from the span means of one slice's chunks, by late key."""
    sums: dict[int, np.ndarray] = {}
    alone: dict[int, str] = {}
    for text, occurrences, means in zip(texts, spans, pooled, strict=True):
        for (s, start, end), mean in zip(occurrences, means, strict=True):
            if np.isnan(mean).any():
                alone.setdefault(s, text[start:end])
            else:
                sums[s] = sums[s] + mean if s in sums else mean
    out = {keys[s]: v / np.linalg.norm(v) for s, v in sums.items()}
    # A sentence that no chunk's window reaches (one longer than MAX_TOKENS) gets a pass of its own.
    missed = [s for s in alone if s not in sums]
    if missed:
        out.update(zip([keys[s] for s in missed], embedder.encode([alone[s] for s in missed]), strict=True))
    return out


def _stack(found: dict[bytes, np.ndarray], keys: list[bytes]) -> np.ndarray:
    """The vectors of keys as one float32 matrix."""
    if not keys:
        return np.zeros((0, DIMENSION), np.float32)
    return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)
