"""The FastAPI application: JSON API, HTML pages, one error shape, security headers."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from http import HTTPStatus
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders, QueryParams, State
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..config import Settings, get_settings
from ..index import IndexIncompatible, IndexMissing
from ..records import Refusal, error_body
from ..service import SearchService, no_index_reason
from . import admin, api, docs_page, feeds, pages

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Requests that embed a query and run retrieval; these are the ones the in-flight limit counts.
SEARCH_PATHS = frozenset(
    {"/", "/api/search", "/api/answer", "/api/answer/stream", "/search.md", "/search.csv", "/search.atom"}
)
# Routes whose errors are JSON though they sit outside /api: a feed reader or script reads them, not a person.
MACHINE_SUFFIXES = (".md", ".csv", ".atom")
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    """The one error body as a response."""
    return JSONResponse(error_body(code, message, field), status_code=status)


def _methods(request: Request) -> list[str]:
    """Every method some route answers on the request's path (HEAD wherever GET is: the Guard answers it)."""
    found = [
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in request.app.routes)
    ]
    return [*found[:1], "HEAD", *found[1:]] if "GET" in found else found


def _page_message(exc: StarletteHTTPException) -> str:
    """What an error page says under its heading: Starlette's default detail only repeats the status phrase."""
    if exc.status_code == HTTPStatus.NOT_FOUND and exc.detail == HTTPStatus.NOT_FOUND.phrase:
        return "There is no page at this address."
    return str(exc.detail)


def _wants_html(request: Request) -> bool:
    """Page routes answer errors with a page, API routes with JSON."""
    path = request.url.path
    return not path.startswith("/api") and path != "/openapi.json" and not path.endswith(MACHINE_SUFFIXES)


class SearchSlots:
    """At most `limit` searches at once; a search may wait briefly for a slot, first come first served.

    The count lives in the app's state, where tests and operators can see it. A freed slot passes straight
    to the longest waiter, so a newcomer cannot overtake a search that is already waiting.
    """

    def __init__(self, state: State, limit: int) -> None:
        self.state = state
        self.limit = limit
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def take(self, patience: float) -> bool:
        """Take a slot, waiting up to `patience` seconds; False when none freed up in time."""
        if self.state.in_flight < self.limit and not self.waiting:
            self.state.in_flight += 1
            return True
        turn = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            await asyncio.wait([turn], timeout=patience)
        except asyncio.CancelledError:
            if self._leave(turn):
                self.release()  # handed a slot just as the request was cancelled: pass it on
            raise
        return self._leave(turn)

    def release(self) -> None:
        """Give a finished search's slot to the longest waiter, else free it."""
        if self.waiting:
            self.waiting.popleft().set_result(None)
        else:
            self.state.in_flight -= 1

    def _leave(self, turn: asyncio.Future[None]) -> bool:
        """Stop waiting; True when the slot was handed over first (the count already includes it)."""
        if turn.done():
            return True
        self.waiting.remove(turn)
        turn.cancel()
        return False


class Guard:
    """Every request's limits and headers, as plain ASGI.

    Requests for other host names are refused (when the operator names the allowed ones), and so are
    oversized bodies, before they are read. A body is read whole here, within a deadline, before a search
    takes a slot: a client trickling its body holds a connection, never a search slot. Searches beyond the
    in-flight limit wait briefly and are then shed instead of queued without bound (a search counts until
    its response starts). HEAD is answered as the GET it mirrors, without the body. Every response carries
    the security headers (500s get them from their handler, which runs outside). Starlette's
    `@app.middleware` wrapper cost about a millisecond per layer per request here; this costs microseconds.
    """

    def __init__(
        self,
        app: ASGIApp,
        state: State,
        max_searches: int,
        *,
        body_timeout: float = 10.0,
        search_wait: float = 0.5,
        allowed_hosts: Iterable[str] = ("*",),
    ) -> None:
        self.app = app
        self.slots = SearchSlots(state, max_searches)
        self.body_timeout = body_timeout
        self.search_wait = search_wait
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] == "HEAD":
            scope, send = {**scope, "method": "GET"}, _without_body(send)
        send = _with_security_headers(send)
        refusal = self._refusal(scope)
        if refusal is not None:
            return await refusal(scope, receive, send)
        try:
            body = await self._read_body(receive)
        except TimeoutError:
            return await _slow_body(self.body_timeout)(scope, receive, send)
        if body is None:
            return  # the client left before its body arrived: there is nobody to answer
        receive = _replay(body, receive)
        if not _is_search(scope):
            return await self.app(scope, receive, send)
        if not await self.slots.take(self.search_wait):
            return await _busy(scope)(scope, receive, send)
        await self._search(scope, receive, send)

    async def _search(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run a search that holds a slot until its response starts (a streamed answer then waits on I/O)."""
        holding = True

        async def send_releasing(message: Message) -> None:
            nonlocal holding
            if holding and message["type"] == "http.response.start":
                holding = False
                self.slots.release()
            await send(message)

        try:
            await self.app(scope, receive, send_releasing)
        finally:
            if holding:  # no response was started (an error the outer layer answers)
                self.slots.release()

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole request body, or None when the client left; TimeoutError when it is not sent in time."""
        chunks: list[bytes] = []
        async with asyncio.timeout(self.body_timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    return b"".join(chunks)

    def _refusal(self, scope: Scope) -> Response | None:
        """The error for another host name, a body that is too large or of undeclared length, else None."""
        headers = Headers(scope=scope)
        if not self._host_allowed(headers.get("host", "")):
            return _error(400, "unknown_host", "this server does not answer for that host name")
        if "transfer-encoding" in headers and "content-length" not in headers:
            return _error(411, "length_required", "request bodies must declare their Content-Length")
        declared = headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            return _error(413, "body_too_large", f"request bodies are limited to {MAX_BODY_BYTES} bytes")
        return None

    def _host_allowed(self, host: str) -> bool:
        """Whether the Host header (port aside) names this server; links and redirects are built from it."""
        if "*" in self.allowed_hosts:
            return True
        name = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
        return name.lower() in self.allowed_hosts


def _is_search(scope: Scope) -> bool:
    """Whether the request embeds a query and runs retrieval: the ones the in-flight limit counts."""
    return scope["path"] in SEARCH_PATHS and (scope["method"] == "POST" or "q" in QueryParams(scope["query_string"]))


def _with_security_headers(send: Send) -> Send:
    """A send that adds the security headers to the response, keeping any the app set itself."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS.items():
                if name not in headers:
                    headers.append(name, value)
        await send(message)

    return send_with_headers


def _without_body(send: Send) -> Send:
    """A send for a HEAD request: the GET's status and headers, no body."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then passes on what comes next (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _slow_body(timeout: float) -> Response:
    """The answer to a body that did not arrive in time; the connection closes, its rest is never read."""
    response = _error(408, "body_timeout", f"the request body did not arrive within {timeout:g} seconds")
    response.headers["Connection"] = "close"
    return response


def _busy(scope: Scope) -> Response:
    """The answer to a search shed for lack of a slot: a page for the search page, else JSON."""
    request = Request(scope)
    message = "too many searches at once; retry in a moment"
    response = pages.error_page(request, 503, message) if _wants_html(request) else _error(503, "busy", message)
    response.headers["Retry-After"] = "1"
    return response


def create_app(settings: Settings | None = None, service: SearchService | None = None) -> FastAPI:
    """Build the web app around a service over settings.index_dir."""
    settings = settings or get_settings()
    # Swagger UI and ReDoc load their scripts from a CDN, which this Content-Security-Policy (and an offline
    # machine) refuses: /docs is a page of our own instead (semsearch.pages.api_docs).
    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="semsearch",
        version=__version__,
        summary="Ask a news archive a question; get cited passages and a quoted brief.",
    )
    app.state.settings = settings
    app.state.service = service or SearchService(settings)
    static = resources.files("semsearch.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(pages.router)
    app.include_router(docs_page.router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
        )
    if settings.admin_token is not None:
        app.state.jobs = admin.Jobs(settings)
        app.include_router(admin.router)
    app.state.in_flight = 0
    app.add_middleware(
        Guard,
        state=app.state,
        max_searches=settings.max_concurrent_searches,
        body_timeout=settings.body_timeout,
        search_wait=settings.search_wait,
        allowed_hosts=settings.allowed_hosts,
    )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        # Names only: a list item's index or a character position in malformed JSON is not a field.
        loc = [p for p in first.get("loc", []) if isinstance(p, str) and p not in ("query", "body", "path")]
        field = loc[-1] if loc else None
        message = f"{field}: {first.get('msg', 'invalid value')}" if field else first.get("msg", "invalid request")
        if _wants_html(request):
            return pages.error_page(request, 422, message)
        if first.get("type") == "json_invalid":  # no request at all, rather than a request with a bad value
            return _error(400, "bad_request", "the request body is not valid JSON")
        if tuple(first.get("loc", ())) == ("body",):  # no body, or one that is not a JSON object
            return _error(
                400, "bad_request", 'the request body must be a JSON object sent as application/json: {"q": "..."}'
            )
        return _error(422, "invalid_request", message, field)

    # Starlette's own: the router's 404 and 405 and an unreadable body's 400 raise it too, not only our routes.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response: Response
        if _wants_html(request):
            response = pages.error_page(request, exc.status_code, _page_message(exc))
        else:
            response = _error(exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail))
            response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # Starlette names the methods of the first route on the path, not of all
            response.headers["Allow"] = ", ".join(_methods(request))
        return response

    # A refusal raised below a route (a damaged watches file) answers in the one error shape, like a route's own.
    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> Response:
        if _wants_html(request):
            return pages.error_page(request, exc.status, exc.message)
        return JSONResponse(exc.body(), status_code=exc.status)

    # The exception names the index folder and FAISS's own words: those go to the log, not to the public.
    @app.exception_handler(IndexMissing)
    @app.exception_handler(IndexIncompatible)
    async def no_index(request: Request, exc: IndexMissing | IndexIncompatible) -> Response:
        log.warning("no index to serve: %s", exc)
        message = no_index_reason(exc)
        if _wants_html(request):
            return pages.error_page(request, 503, message)
        return _error(503, "no_index", message)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        message = "something went wrong on our side; the details are in the server log"
        response = (
            pages.error_page(request, 500, message) if _wants_html(request) else _error(500, "server_error", message)
        )
        response.headers.update(SECURITY_HEADERS)  # this handler answers outside Guard
        return response

    return app
