"""Feed URLs: fetched within one deadline, from public addresses only unless the operator allows others."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from .readers import SkipSource

log = logging.getLogger(__name__)

FEED_SCHEMES = ("http", "https")
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_MAX_REDIRECTS = 5
# One reason for refused, reset, timed out, unresolvable and HTTP errors alike, so a build's skip list
# (which the public source list and admin rebuilds show) cannot be used to scan which hosts and ports
# answer; the cause goes to the operator's log only (_unreachable).
UNREACHABLE = "feed could not be fetched"
# Query parameters whose values are credentials: never shown, whatever the URL.
SECRET_PARAMS = ("apikey", "api_key", "token", "key", "password", "passwd", "secret", "sig", "signature", "auth")
NOT_PUBLIC = (
    "feed address is not public (loopback, private, link-local or reserved); "
    "set SEMSEARCH_FEED_ALLOW_PRIVATE=true to read feeds on such addresses"
)


@dataclass(frozen=True, slots=True)
class FeedLimits:
    """What a feed download may cost and reach."""

    timeout: float
    max_bytes: int
    allow_private: bool


@dataclass(frozen=True, slots=True)
class _Target:
    """One checked request: the name for Host and TLS, and the resolved address actually connected to."""

    scheme: str
    host: str
    port: int
    path: str
    family: int
    sockaddr: tuple


def unsupported_scheme(scheme: str) -> str:
    """The skip reason for a URL scheme feeds are not read from."""
    return f"unsupported URL scheme '{scheme}' (only http and https feeds are read)"


def fetch(url: str, limits: FeedLimits) -> bytes:
    """A feed's bytes, following redirects, all within one deadline and a size cap; or a SkipSource."""
    deadline = time.monotonic() + limits.timeout
    for _ in range(_MAX_REDIRECTS + 1):
        target = _checked_target(url, limits.allow_private)
        status, location, body = _get(url, target, deadline, limits.max_bytes)
        if status not in _REDIRECTS:
            return body
        url = urljoin(url, location)
    raise SkipSource("feed redirected too many times")


def _checked_target(url: str, allow_private: bool) -> _Target:
    """Where a URL leads, refused if its scheme is not http(s) or any address it resolves to is not public."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
        port = parts.port or (443 if scheme == "https" else 80)
        if scheme not in FEED_SCHEMES:
            raise SkipSource(unsupported_scheme(scheme))
        if not host:
            raise ValueError("no host in the URL")
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (ValueError, OSError) as exc:  # a malformed URL or port; a name that does not resolve
        raise _unreachable(url, exc) from None
    if not allow_private and not all(_is_public_sockaddr(sockaddr) for *_, sockaddr in found):
        raise SkipSource(NOT_PUBLIC)
    family, _, _, _, sockaddr = found[0]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(scheme, host, port, path, family, sockaddr)


def _is_public_sockaddr(sockaddr: tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes]) -> bool:
    """Whether a resolved socket address is public; one without a text address (a Python built without
    IPv6 gives IPv6 results as (int, bytes)) cannot be judged, so it is not."""
    address = sockaddr[0]
    return isinstance(address, str) and _is_public(address)


def _is_public(address: str) -> bool:
    """Whether an address is globally routable unicast (an IPv4-mapped IPv6 address judged as its IPv4)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _get(url: str, target: _Target, deadline: float, max_bytes: int) -> tuple[int, str, bytes]:
    """Status, redirect location and body of one GET; the connection is cut when the deadline passes."""
    connection = _connection(target, _remaining(deadline))
    # Socket timeouts bound each read, not their sum: a server trickling a byte at a time would hold the build.
    watchdog = threading.Timer(_remaining(deadline), _cut, (connection,))
    watchdog.start()
    try:
        connection.request("GET", target.path, headers={"User-Agent": "semsearch feed reader"})
        response = connection.getresponse()
        body = response.read(max_bytes + 1) if 200 <= response.status < 300 else b""
        status, location = response.status, response.getheader("Location") or ""
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _unreachable(url, exc) from None
    finally:
        watchdog.cancel()
        connection.close()
    if time.monotonic() >= deadline:  # a cut connection can look like a short, complete answer
        raise _unreachable(url, "no complete answer within SEMSEARCH_FEED_TIMEOUT")
    if not (200 <= status < 300 or (status in _REDIRECTS and location)):
        raise _unreachable(url, f"HTTP {status}")
    if len(body) > max_bytes:
        raise SkipSource(f"feed larger than {max_bytes / 1e6:.1f} MB")
    return status, location, body


def _unreachable(url: str, cause: object) -> SkipSource:
    """The skip of a feed that could not be fetched, its cause logged for the operator (credentials hidden)."""
    log.warning("feed %s could not be fetched: %s", redacted(url), cause)
    return SkipSource(UNREACHABLE)


def _remaining(deadline: float) -> float:
    """Seconds left before the deadline, never zero (a zero socket timeout means non-blocking)."""
    return max(deadline - time.monotonic(), 0.001)


def _connection(target: _Target, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to the checked address; a second lookup of the name could answer differently."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def connect(_address: object, timeout: float, _source: object = None) -> socket.socket:
        return _connect(target, timeout)

    # Replacing the private connect hook is how the connection reaches the checked address; typeshed leaves
    # out that attribute, which HTTPConnection.__init__ sets.
    connection._create_connection = connect  # type: ignore[attr-defined]
    return connection


def _connect(target: _Target, timeout: float) -> socket.socket:
    """A TCP socket connected to the target's resolved address."""
    sock = socket.socket(target.family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(target.sockaddr)
    except OSError:
        sock.close()
        raise
    return sock


def _cut(connection: http.client.HTTPConnection) -> None:
    """End a connection's pending reads at once, from another thread."""
    sock = connection.sock
    if sock is None:
        return
    # The plain socket's shutdown: a TLS socket's own would drop its state under the reading thread.
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def redacted(source: str) -> str:
    """A source with any credentials in it (user:password@, apikey=... and the like) replaced by ***."""
    try:
        parts = urlsplit(source)
    except ValueError:  # not a url at all (an unclosed IPv6 bracket)
        return source
    if not parts.scheme or not parts.netloc:
        return source
    host = parts.netloc.rpartition("@")[2]
    netloc = f"***@{host}" if "@" in parts.netloc else host
    query = urlencode(
        [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
