"""The FastAPI application: JSON API, HTML pages, one error shape, security headers."""

from __future__ import annotations

import logging
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders, QueryParams, State
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__, admin, api, pages
from .config import Settings, get_settings
from .engine import Engine, QueryError
from .index import IndexIncompatible, IndexMissing

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Requests that embed a query and run retrieval; these are the ones the in-flight limit counts.
SEARCH_PATHS = frozenset({"/", "/api/search", "/api/answer", "/api/answer/stream"})
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    """The one error body: {"error": {"code", "message", "field"}}."""
    return JSONResponse({"error": {"code": code, "message": message, "field": field}}, status_code=status)


def _wants_html(request: Request) -> bool:
    """Page routes answer errors with a page, API routes with JSON."""
    return not request.url.path.startswith("/api") and request.url.path != "/openapi.json"


class Guard:
    """Every request's limits and headers, as plain ASGI.

    Oversized bodies are refused before they are read, searches beyond the in-flight limit are shed
    instead of queued without bound (a search counts until its response starts), and every response
    carries the security headers (500s get them from their handler, which runs outside). Starlette's
    `@app.middleware` wrapper cost about a millisecond per layer per request here; this costs microseconds.
    """

    def __init__(self, app: ASGIApp, state: State, max_searches: int) -> None:
        self.app = app
        self.state = state  # the app's state holds the in-flight count, where tests and operators can see it
        self.max_searches = max_searches

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        searching = False

        async def send_with_headers(message: Message) -> None:
            nonlocal searching
            if message["type"] == "http.response.start":
                if searching:  # the search is done once its response starts; a streamed answer then waits on I/O
                    searching = False
                    self.state.in_flight -= 1
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            return await refusal(scope, receive, send_with_headers)
        if scope["path"] in SEARCH_PATHS and (scope["method"] == "POST" or "q" in QueryParams(scope["query_string"])):
            if self.state.in_flight >= self.max_searches:
                busy = _error(503, "busy", "too many searches at once; retry in a moment")
                busy.headers["Retry-After"] = "1"
                return await busy(scope, receive, send_with_headers)
            searching = True
            self.state.in_flight += 1
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if searching:  # no response was started (an error the outer layer answers)
                self.state.in_flight -= 1

    @staticmethod
    def _refusal(scope: Scope) -> Response | None:
        """The error for a body that is too large or of undeclared length, else None."""
        headers = Headers(scope=scope)
        if "transfer-encoding" in headers and "content-length" not in headers:
            return _error(411, "length_required", "request bodies must declare their Content-Length")
        declared = headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            return _error(413, "body_too_large", f"request bodies are limited to {MAX_BODY_BYTES} bytes")
        return None


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the web app around an engine over settings.index_dir."""
    settings = settings or get_settings()
    # Swagger UI and ReDoc load their scripts from a CDN, which this Content-Security-Policy (and an offline
    # machine) refuses: /docs is a page of our own instead (semsearch.pages.api_docs).
    app = FastAPI(
        docs_url=None, redoc_url=None,
        title="semsearch",
        version=__version__,
        summary="Ask a news archive a question; get cited passages and a quoted brief.",
    )
    app.state.settings = settings
    app.state.engine = engine or Engine(settings)
    static = resources.files("semsearch.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "Authorization"])
    if settings.admin_token is not None:
        app.state.jobs = admin.Jobs(settings)
        app.include_router(admin.router)
    app.state.in_flight = 0
    app.add_middleware(Guard, state=app.state, max_searches=settings.max_concurrent_searches)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        # Names only: a list item's index or a character position in malformed JSON is not a field.
        loc = [p for p in first.get("loc", []) if isinstance(p, str) and p not in ("query", "body", "path")]
        field = loc[-1] if loc else None
        message = f"{field}: {first.get('msg', 'invalid value')}" if field else first.get("msg", "invalid request")
        if _wants_html(request):
            return pages.error_page(request, 422, message)
        return _error(422, "invalid_request", message, field)

    @app.exception_handler(QueryError)
    async def invalid_query(request: Request, exc: QueryError) -> Response:
        if _wants_html(request):
            return pages.error_page(request, 422, str(exc))
        return _error(422, "invalid_query", str(exc), exc.field)

    # Starlette's own: the router's 404 and 405 and an unreadable body's 400 raise it too, not only our routes.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_html(request):
            return pages.error_page(request, exc.status_code, str(exc.detail))
        response = _error(exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail))
        response.headers.update(exc.headers or {})  # a 405's Allow
        return response

    @app.exception_handler(IndexMissing)
    @app.exception_handler(IndexIncompatible)
    async def no_index(request: Request, exc: Exception) -> Response:
        log.warning("no index to serve: %s", exc)
        if _wants_html(request):
            return pages.error_page(request, 503, str(exc))
        return _error(503, "no_index", str(exc))

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        message = "something went wrong on our side; the details are in the server log"
        response = pages.error_page(request, 500, message) if _wants_html(request) else _error(
            500, "server_error", message)
        response.headers.update(SECURITY_HEADERS)  # this handler answers outside Guard
        return response

    return app
