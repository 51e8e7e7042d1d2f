"""A small typed client for the semsearch JSON API, for programs that talk to a running server."""

from __future__ import annotations

from typing import Any

import httpx

from .records import AlsoReported, Brief, BriefSentence, Citation, Hit, SearchResponse, Source
from .server.schemas import ArticleOut


class ApiError(RuntimeError):
    """An error answer from the server, with its code, message and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.field = status, code, message, field


def _citation(c: dict) -> Citation:
    return Citation(n=c["n"], article_id=c["article_id"], start=c["start"], end=c["end"])


def _response(body: dict) -> SearchResponse:
    """The API's JSON as the same dataclasses the service uses."""
    hits = [
        Hit(article_id=h["article_id"], title=h["title"], outlet=h["outlet"], published=h["published"], url=h["url"],
            score=h["score"], snippet=h["snippet"], highlights=[tuple(x) for x in h["highlights"]],
            term_highlights=[tuple(x) for x in h.get("term_highlights", [])], story_id=h.get("story_id"),
            also_reported_by=[AlsoReported(**a) for a in h.get("also_reported_by", [])])
        for h in body["results"]
    ]
    summary = None
    if body.get("summary") is not None:
        s = body["summary"]
        summary = Brief(
            sentences=[BriefSentence(text=x["text"], citations=[_citation(c) for c in x["citations"]],
                                     corroborations=[_citation(c) for c in x.get("corroborations", [])])
                       for x in s["sentences"]],
            sources=[Source(**src) for src in s["sources"]],
            abstained=s.get("abstained"),
        )
    return SearchResponse(query=body["query"], took_ms=body["took_ms"], results=hits, summary=summary)


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
            raise ApiError(response.status_code, error.get("code", "http_error"), error.get("message", ""),
                           error.get("field"))
        return response.json()

    def search(
        self, q: str, k: int = 10, *, mode: str = "hybrid", outlets: list[str] | None = None,
        since: str | None = None, until: str | None = None, summary: bool = True, words: int | None = None,
        sources: int | None = None, offset: int = 0, recency: float = 0.0,
    ) -> SearchResponse:
        """Ranked articles and (unless summary=False) the cited brief for a question."""
        body = {"q": q, "k": k, "mode": mode, "outlet": outlets or [], "since": since, "until": until,
                "summary": summary, "words": words, "sources": sources, "offset": offset, "recency": recency}
        return _response(self._call("POST", "/api/search", json={k_: v for k_, v in body.items() if v is not None}))

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
