"""A small typed client for the semsearch JSON API, for programs that talk to a running server."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from .records import Refusal, SearchResponse
from .server.schemas import ArticleOut


class ApiError(Refusal, RuntimeError):
    """An error answer from the server, with its status, code, message and the field at fault."""

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


# The API's JSON read back into the very dataclasses the service returns (lists become the tuples they were).
_SEARCH_RESPONSE = TypeAdapter(SearchResponse)


class Client:
    """`Client("http://127.0.0.1:8000").search("question")` and friends; raises ApiError on 4xx/5xx."""

    def __init__(self, base_url: str, timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, answers: tuple[int, ...] = (), **kwargs: Any) -> Any:
        """The JSON body; an error status raises ApiError unless it is one of `answers`."""
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400 and response.status_code not in answers:
            try:
                error = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                error = {"code": "http_error", "message": response.text[:200]}
            raise ApiError(
                response.status_code, error.get("code", "http_error"), error.get("message", ""), error.get("field")
            )
        return response.json()

    def search(self, q: str, **options: Any) -> SearchResponse:
        """Ranked articles and (unless summary=False) the cited brief for a question.

        `options` are the other fields of semsearch.contract.SearchRequest (k, mode, outlet, place, since,
        until, words, sources, recency, offset, summary, debug); the server validates them, and a bad one
        raises ApiError naming it.
        """
        body = to_jsonable_python({"q": q, **options})
        return _SEARCH_RESPONSE.validate_python(self._call("POST", "/api/search", json=body))

    def article(self, article_id: str) -> ArticleOut:
        """One article with its full text."""
        return ArticleOut(**self._call("GET", f"/api/articles/{article_id}"))

    def outlets(self) -> dict[str, int]:
        """Outlets with their article counts."""
        return {o["outlet"]: o["articles"] for o in self._call("GET", "/api/outlets")}

    def stats(self) -> dict:
        """What the served index holds."""
        return self._call("GET", "/api/stats")

    def health(self) -> dict:
        """Server status, served version and counts; a 503 (no index, or degraded) answers with these too."""
        return self._call("GET", "/api/health", answers=(503,))
