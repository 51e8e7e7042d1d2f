"""The stdio transport's two streams as `semsearch mcp`'s server loop sees them: every line gets its answer.

The MCP SDK leaves two kinds of line unanswered, and a client waits on them:

- A line that is not a JSON-RPC message reaches the loop as an exception, which the loop drops. Here it is
  answered with the JSON-RPC error, -32700 for a line that is not JSON and -32600 for JSON that is not a
  message, both with id null (the spec's id when the request's own cannot be known), and serving goes on. A
  request method whose id is missing or no string or integer reads as a notification the loop would drop: it
  gets -32600 too. A blank line is no message and gets nothing.
- The loop cancels the requests still running when its input ends, so a request the client wrote just before
  closing stdin lost its reply. Here the end of input reaches the loop only once every request read has been
  answered (its reply handed to the transport's stdout writer, which drains before the transport exits) or
  settled without one (the client cancelled it). No tool waits on the client, so the wait cannot deadlock.
"""

from __future__ import annotations

import logging
from typing import Protocol

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from mcp import types
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from pydantic import ValidationError

log = logging.getLogger(__name__)

# What the client is told: the spec's messages, and what a line must be.
NOT_JSON = "Parse error"
NOT_A_MESSAGE = "Invalid Request"
MESSAGE_RULE = "each line must be one JSON-RPC 2.0 request, notification or response object"
ID_RULE = "a request's id must be a string or an integer"


class Incoming(Protocol):
    """The transport's read stream: a message, or the exception a line that is none raised."""

    async def receive(self) -> SessionMessage | Exception: ...
    async def aclose(self) -> None: ...


class Outgoing(Protocol):
    """The transport's write stream."""

    async def send(self, item: SessionMessage, /) -> None: ...
    async def aclose(self) -> None: ...


class Unanswered:
    """The requests read and not yet settled, by id (a list, as a client may reuse an id while one runs)."""

    def __init__(self) -> None:
        self.ids: list[types.RequestId] = []
        self.settled = anyio.Event()

    def settle(self, request_id: types.RequestId) -> None:
        if request_id in self.ids:
            self.ids.remove(request_id)
            self.settled.set()

    async def drained(self) -> None:
        """Return once every request read has been settled."""
        while self.ids:
            self.settled = anyio.Event()
            await self.settled.wait()


def line_error(exc: Exception) -> SessionMessage:
    """The JSON-RPC error answering a line the transport could not read as a message."""
    errors = exc.errors() if isinstance(exc, ValidationError) else []
    if errors and errors[0]["type"] == "json_invalid":
        return _error(types.PARSE_ERROR, NOT_JSON, errors[0]["msg"])
    return _error(types.INVALID_REQUEST, NOT_A_MESSAGE, MESSAGE_RULE)


def _error(code: int, message: str, data: str) -> SessionMessage:
    """A JSON-RPC error with id null: the line's own id could not be read."""
    error = types.ErrorData(code=code, message=message, data=data)
    return SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=None, error=error))


def _blank(exc: Exception) -> bool:
    """Whether a line the transport could not read held nothing but blanks."""
    errors = exc.errors() if isinstance(exc, ValidationError) else []
    return bool(errors) and isinstance(errors[0].get("input"), str) and not errors[0]["input"].strip()


def _request_without_id(item: SessionMessage) -> bool:
    """A request method sent as a notification: its id was missing, null or no string or integer, which the
    transport reads as a notification (and the loop would drop, the client waiting on it for ever). Every MCP
    notification's method starts "notifications/"."""
    message = item.message
    return isinstance(message, types.JSONRPCNotification) and not message.method.startswith("notifications/")


class Reader(ObjectReceiveStream[SessionMessage]):
    """The loop's input: bad lines answered here, requests counted, the end held until they are settled.
    (anyio's base class adds the iteration and `async with` the loop uses.)"""

    def __init__(self, read: Incoming, write: Outgoing, unanswered: Unanswered) -> None:
        self.read, self.write, self.unanswered = read, write, unanswered

    async def receive(self) -> SessionMessage:
        while True:
            try:
                item = await self.read.receive()
            except anyio.EndOfStream:
                await self.unanswered.drained()
                raise
            if not isinstance(item, Exception):
                if not _request_without_id(item):
                    return self.counted(item)
                reply = _error(types.INVALID_REQUEST, NOT_A_MESSAGE, ID_RULE)
            elif _blank(item):
                continue  # a blank line between messages is no message, and nobody waits on it
            else:
                reply = line_error(item)
            log.warning("a stdin line is no JSON-RPC message: answered %s", reply.message.model_dump_json())
            await self.write.send(reply)

    def counted(self, item: SessionMessage) -> SessionMessage:
        """The message, a request counted until answered; the SDK calls the hook on one that settles unanswered."""
        if not isinstance(item.message, types.JSONRPCRequest):
            return item
        request_id = item.message.id
        self.unanswered.ids.append(request_id)

        async def unanswered() -> None:
            self.unanswered.settle(request_id)

        # The stdio transport attaches no metadata, so this replaces nothing.
        return SessionMessage(item.message, ServerMessageMetadata(on_request_unanswered=unanswered))

    async def aclose(self) -> None:
        await self.read.aclose()


class Writer(ObjectSendStream[SessionMessage]):
    """The loop's output: a reply settles its request once handed on (or once handing it on failed for good)."""

    def __init__(self, write: Outgoing, unanswered: Unanswered) -> None:
        self.write, self.unanswered = write, unanswered

    async def send(self, item: SessionMessage) -> None:
        try:
            await self.write.send(item)
        finally:
            message = item.message
            if isinstance(message, types.JSONRPCResponse | types.JSONRPCError) and message.id is not None:
                self.unanswered.settle(message.id)

    async def aclose(self) -> None:
        await self.write.aclose()


def answering(read: Incoming, write: Outgoing) -> tuple[Reader, Writer]:
    """The loop's streams over the transport's."""
    unanswered = Unanswered()
    return Reader(read, write, unanswered), Writer(write, unanswered)
