"""`semsearch mcp` driven by the MCP SDK's own client over stdio: its tools, and every citation verbatim."""

from __future__ import annotations

import json
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
