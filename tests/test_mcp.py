"""`semsearch mcp` driven by the MCP SDK's own client over stdio: its tools, and every citation verbatim."""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
from mcp import Client, StdioServerParameters

from semsearch.config import Settings


async def session(settings: Settings, work) -> object:
    """Run `work(client)` against a `semsearch mcp` subprocess over the fixture index."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "semsearch", "mcp", "--index", str(settings.index_dir)]
    )
    async with Client(params) as client:
        return await work(client)


def exchange(settings: Settings, lines: list[str]) -> list[dict]:
    """Every line a `semsearch mcp` subprocess writes when sent `lines` and its stdin closed the moment they are
    written (the last request still running), over the fixture index."""
    done = subprocess.run(
        [sys.executable, "-m", "semsearch", "mcp", "--index", str(settings.index_dir)],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def request(request_id: int, method: str, params: dict | None = None) -> str:
    """A JSON-RPC request line."""
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}})


HANDSHAKE = [
    request(
        1,
        "initialize",
        {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    ),
    json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
]
SEARCH = request(7, "tools/call", {"name": "search", "arguments": {"q": "dockworkers strike", "k": 2}})


def replies(lines: list[dict]) -> dict:
    """The replies to requests, by id."""
    return {line["id"]: line for line in lines if line.get("id") is not None}


def body(result) -> dict:
    """A tool result's JSON text."""
    return json.loads(result.content[0].text)


def test_tools_answer_with_verbatim_citations(settings: Settings):
    async def work(client):
        listed = await client.list_tools()
        asked = await client.call_tool("ask", {"q": "Why did the Port Calder dockworkers strike?", "k": 3})
        answer = body(asked)
        articles = {}
        for sentence in answer["summary"]["sentences"]:
            for citation in sentence["citations"]:
                if citation["article_id"] not in articles:
                    articles[citation["article_id"]] = body(
                        await client.call_tool("article", {"article_id": citation["article_id"]})
                    )
        bad = await client.call_tool("search", {"q": "strike", "k": 0})
        unknown = await client.call_tool("article", {"article_id": "0" * 16})
        return listed, asked, answer, articles, bad, unknown

    listed, asked, answer, articles, bad, unknown = anyio.run(session, settings, work)
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == {"search", "ask", "article"}
    assert {"q", "k", "outlet", "since", "until", "mode", "recency"} <= set(tools["search"].input_schema["properties"])
    assert all("quote" in tools[name].description and "cite" in tools[name].description for name in ("search", "ask"))
    assert not asked.is_error and answer["summary"]["sentences"]
    for sentence in answer["summary"]["sentences"]:
        for citation in sentence["citations"]:
            text = articles[citation["article_id"]]["text"]
            assert text[citation["start"] : citation["end"]] == sentence["text"]
    assert bad.is_error and body(bad)["error"]["field"] == "k"
    assert unknown.is_error and body(unknown)["error"]["code"] == "not_found"


def test_lines_that_are_no_message_are_answered_and_serving_goes_on(settings: Settings):
    bad = [
        "this is not json",
        '{"jsonrpc": "2.0", "id": 3, "method": "tools/list"',
        "[1, 2]",
        '{"jsonrpc": "2.0", "id": 4}',
        "",  # blank lines between messages are no message and get no answer
        "   ",
        '{"jsonrpc": "2.0", "id": null, "method": "tools/list"}',  # a request whose id cannot be one
        '{"jsonrpc": "2.0", "id": 1.5, "method": "tools/list"}',
    ]
    # One before the handshake too: the SDK reads the lines up to the first request apart from the rest.
    lines = exchange(settings, ["{oops", *HANDSHAKE, *bad, request(5, "tools/list"), SEARCH])
    errors = [line for line in lines if "id" in line and line["id"] is None]
    assert [error["error"]["code"] for error in errors] == [-32700, -32700, -32700, -32600, -32600, -32600, -32600]
    assert all(error["jsonrpc"] == "2.0" and error["error"]["message"] for error in errors)
    answered = replies(lines)
    assert set(answered) == {1, 5, 7}
    assert len(answered[5]["result"]["tools"]) == 3
    assert not answered[7]["result"]["isError"] and json.loads(answered[7]["result"]["content"][0]["text"])["results"]


def test_the_last_request_is_answered_when_stdin_closes_at_once(settings: Settings):
    # The end of input used to cancel the request still running, its reply lost: a race, so run it often.
    for _ in range(20):
        answered = replies(exchange(settings, [*HANDSHAKE, request(5, "tools/list"), SEARCH]))
        assert set(answered) == {1, 5, 7}
        assert not answered[7]["result"]["isError"]


def test_a_request_cancelled_before_stdin_closes_ends_the_session(settings: Settings):
    # The end of input waits for the requests still running; one the client cancelled gets no reply and must not
    # hold the end back for ever (the subprocess's timeout fails the test).
    cancel = json.dumps({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}})
    answered = replies(exchange(settings, [*HANDSHAKE, SEARCH, cancel]))
    assert 1 in answered and set(answered) <= {1, 7}
