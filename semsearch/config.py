"""All settings in one place, read from ``SEMSEARCH_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    embed_batch_size: int = Field(32, ge=1, le=1024, description="Texts per model forward pass.")
    brief_words: int = Field(120, ge=20, le=400, description="Default word budget of the brief.")
    brief_candidates: int = Field(30, ge=1, le=200, description="Top chunks whose sentences feed the brief.")
    brief_min_similarity: float = Field(
        0.25, ge=-1.0, le=1.0, description="Below this query-sentence cosine the brief abstains."
    )
    max_file_mb: float = Field(20.0, gt=0, description="Source files larger than this are skipped.")
    keep_versions: int = Field(2, ge=1, description="Index versions kept on disk for rollback.")
    log_level: str = Field("INFO", description="Logging level name.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
