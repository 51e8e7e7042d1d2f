"""All settings in one place, read from ``SEMSEARCH_*`` environment variables."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)
MIN_ADMIN_TOKEN_CHARS = 16
PACKAGE_DIR = Path(__file__).resolve().parent
# In a source checkout the project's own index/ sits beside the package; an installed
# wheel has no such folder, so it falls back to ./index in the working directory.
_CHECKOUT_INDEX = PACKAGE_DIR.parent / "index"


def default_index_dir() -> Path:
    """The index home used when SEMSEARCH_INDEX_DIR is unset."""
    if (_CHECKOUT_INDEX / "sample").is_dir():
        return _CHECKOUT_INDEX
    return Path.cwd() / "index"


def sample_corpus_dir() -> Path | None:
    """The bundled sample corpus, or None when this install does not carry it."""
    for candidate in (_CHECKOUT_INDEX / "sample", PACKAGE_DIR / "sample"):
        if candidate.is_dir():
            return candidate
    return None


class Settings(BaseSettings):
    """Every knob of semsearch; each field is the env var SEMSEARCH_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="SEMSEARCH_", extra="ignore")

    index_dir: Path = Field(default_factory=default_index_dir, description="Where index versions live.")
    cache_dir: Path | None = Field(None, description="Embedding cache folder (default: <index_dir>/cache).")
    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` listens on.")
    chunk_tokens: int = Field(200, ge=32, le=256, description="Target chunk size in model tokens.")
    embed_backend: Literal["torch", "onnx"] = Field(
        "onnx", description="Model runtime: onnx (exported once from the packaged model; faster queries), or torch."
    )
    query_precision: Literal["fp32", "int8"] = Field(
        "int8",
        description="Weights of the onnx query pass: int8 (faster, same SciFact quality) or fp32.",
    )
    vector_precision: Literal["fp32", "int8"] = Field(
        "fp32",
        description="Weights of the onnx bulk passes that make a build's stored vectors: fp32, or int8 "
        "(faster builds); an index is rebuilt in full when this changes.",
    )
    query_cache_size: int = Field(
        256, ge=0, le=100_000, description="Query vectors kept for questions asked again (paging, filters); 0 = off."
    )
    embed_batch_size: int = Field(32, ge=1, le=1024, description="Texts per model forward pass.")
    sentence_vectors: Literal["separate", "late"] = Field(
        "separate",
        description="How a build makes sentence vectors: separate (one model pass per sentence) or late "
        "(pooled from the chunk's own pass, less half its mean state; no second pass, local builds only).",
    )
    brief_words: int = Field(120, ge=20, le=400, description="Default word budget of the brief.")
    brief_candidates: int = Field(30, ge=1, le=200, description="Top chunks whose sentences feed the brief.")
    brief_min_similarity: float = Field(
        0.35, ge=-1.0, le=1.0, description="Below this query-sentence cosine the brief abstains."
    )
    brief_redundancy: float = Field(
        0.8, ge=0.0, le=1.0, description="Sentence cosine at which two sentences state the same fact."
    )
    max_file_mb: float = Field(20.0, gt=0, description="Source files larger than this are skipped.")
    max_article_chars: int = Field(
        2_000_000, ge=1, description="Most characters one article's text may hold; a longer article is skipped."
    )
    max_article_lines: int = Field(
        50_000, ge=1, description="Most lines one article's text may hold; a longer article is skipped."
    )
    feed_timeout: float = Field(
        10.0, gt=0, le=300, description="Seconds a feed URL may take in all (connect, redirects and every read)."
    )
    feed_allow_private: bool = Field(
        False, description="Read feeds on loopback, private, link-local and other non-public addresses."
    )
    rails: Literal["split", "drop"] = Field(
        "split", description="Related-article rails: split into their own articles, or drop."
    )
    junk_phrases_file: Path | None = Field(None, description="Extra junk-line patterns, one regex per line.")
    source_outlets: dict[str, str] = Field(
        default_factory=dict,
        description='Default outlet by path fragment, as JSON: {"riverside-herald": "Riverside Herald"}.',
    )
    story_similarity: float = Field(
        0.74, ge=0, le=1, description="Title-and-lead cosine at which two articles are the same event."
    )
    story_window_days: int = Field(3, ge=0, description="Most days between two reports of one event.")
    near_duplicate_jaccard: float = Field(
        0.5, ge=0, le=1, description="Shingle Jaccard similarity at which two texts are near-duplicates."
    )
    ann_threshold: int = Field(
        20_000, ge=1, description="Chunk count from which FAISS uses an approximate index instead of exact search."
    )
    ann_index: Literal["ivf", "hnsw"] = Field(
        "ivf", description="FAISS's approximate index above the threshold: ivf (inverted file) or hnsw (graph)."
    )
    ivf_nprobe: int = Field(32, ge=1, le=65536, description="IVF cells a search visits (recall vs speed).")
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph degree (FAISS and Milvus): recall vs memory.")
    hnsw_ef_construction: int = Field(80, ge=8, le=1024, description="HNSW build beam width: recall vs build time.")
    hnsw_ef_search: int = Field(128, ge=8, le=4096, description="HNSW search beam width (recall vs speed).")
    backend: Literal["faiss", "milvus"] = Field(
        "faiss", description="Where new builds put chunk vectors: faiss (files beside the index) or milvus (a server)."
    )
    milvus_uri: str = Field(
        "http://127.0.0.1:19530", description="Milvus server or cluster URI for the milvus backend."
    )
    milvus_token: SecretStr | None = Field(
        None, description="Milvus token (user:password or API key), if it needs one."
    )
    keep_versions: int = Field(2, ge=1, description="Index versions kept on disk for rollback.")
    max_concurrent_searches: int = Field(8, ge=1, description="Searches in flight before 503 + Retry-After.")
    search_wait: float = Field(
        0.5, ge=0, le=10, description="Seconds a search waits for a free slot before it gets 503 + Retry-After."
    )
    body_timeout: float = Field(
        10.0, gt=0, le=300, description="Seconds a client has to send a whole request body; slower ones get 408."
    )
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["*"],
        description='Host names the server answers for, as JSON: ["search.example.org"]; '
        '"*" = any. Links and redirects are built from the Host header; other hosts get 400.',
    )
    max_connections: int = Field(
        512, ge=1, description="Open connections (or running requests) `serve` allows; beyond it, a plain 503."
    )
    shutdown_timeout: int = Field(
        10,
        ge=1,
        le=3600,
        description="Seconds `serve` lets running requests finish after SIGTERM before cancelling them.",
    )
    workers: int = Field(
        1, ge=1, le=64, description="Server processes `serve` runs; each loads the model and maps the index."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins allowed to call the API from a browser, as JSON: ["https://a.example"].',
    )
    admin_token: SecretStr | None = Field(
        None, description=f"Enables the admin rebuild API when set (at least {MIN_ADMIN_TOKEN_CHARS} characters)."
    )
    admin_source_roots: list[Path] = Field(
        default_factory=list,
        description='Folders the admin API may build from, as JSON: ["/srv/news"]; none = '
        "it can only re-run the recorded sources.",
    )
    admin_feeds: bool = Field(False, description="Whether admin rebuilds may name feed URLs as sources.")
    article_part_chars: int = Field(
        100_000, ge=1000, description="Characters of a long article shown per page of the article view."
    )
    verify_on_load: bool = Field(True, description="Check file checksums before serving a version.")
    read_ahead: bool = Field(
        True,
        description="After a served version's first answer, read its files into the OS page cache in the background.",
    )
    llm_url: str | None = Field(
        None, description="OpenAI-compatible base URL of the answer writer, e.g. http://127.0.0.1:11434/v1."
    )
    llm_model: str | None = Field(None, description="Model name the answer writer asks for.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer token for the writer's API, if it needs one.")
    llm_timeout: float = Field(30.0, gt=0, le=600, description="Seconds the writer may take for a whole answer.")
    llm_max_tokens: int = Field(400, ge=16, le=8192, description="Most tokens the writer may generate.")
    llm_min_support: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Share of an answer sentence's claim words its cited evidence must state for it to be kept.",
    )
    llm_synonym_similarity: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="Cosine of the model's in-context word vectors at which an answer word counts as stated by a "
        "word of its evidence (1 turns synonyms off).",
    )
    llm_min_kept: float = Field(
        0.5, ge=0.0, le=1.0, description="Share of answer sentences that must pass the check, else the brief is used."
    )
    max_watches: int = Field(
        100, ge=1, le=10_000, description="Saved questions (`semsearch watch add`) an index home may hold."
    )
    max_watch_entries: int = Field(
        50, ge=1, le=10_000, description="Runs with new findings each saved question keeps (its feed's entries)."
    )
    silent_after_gaps: float = Field(
        4.0,
        ge=1.5,
        le=1000,
        description="A source is flagged silent once it has given nothing new for this many times its usual gap.",
    )
    silent_min_hours: float = Field(
        12.0, ge=0, le=24 * 365, description="Hours without a new article before any source can be flagged silent."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Logging level name: DEBUG, INFO, WARNING, ERROR or CRITICAL (any case)."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("junk_phrases_file")
    @classmethod
    def _junk_phrases_usable(cls, path: Path | None) -> Path | None:
        """A phrase file that cannot be read or holds a broken pattern is named now, not mid-build."""
        if path is None:
            return None
        try:
            lines = path.read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        for number, line in enumerate(lines, start=1):
            pattern = line.strip()
            if not pattern or pattern.startswith("#"):
                continue
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"line {number} of {path} is not a regular expression: {exc}") from None
        return path

    @field_validator("admin_token")
    @classmethod
    def _admin_token_strong_enough(cls, token: SecretStr | None) -> SecretStr | None:
        """An empty token turns the admin API off (it must never mean "no login"); a short one is refused."""
        if token is None:
            return None
        value = token.get_secret_value().strip()
        if not value:
            log.warning("SEMSEARCH_ADMIN_TOKEN is empty: the admin API stays off")
            return None
        if len(value) < MIN_ADMIN_TOKEN_CHARS:
            raise ValueError(f"must be at least {MIN_ADMIN_TOKEN_CHARS} characters (it guards index rebuilds)")
        return SecretStr(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
