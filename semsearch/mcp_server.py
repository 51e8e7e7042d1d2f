"""`semsearch mcp`: the archive as Model Context Protocol tools over stdio, for agents.

Tools `search`, `ask` and `article` take the API's own parameters (the contract's JSON schema) and return
the API's own JSON as their text, so an agent reads exactly what /api/search and /api/articles/{id} return.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from pydantic import ValidationError

from . import __version__
from .config import Settings
from .contract import SearchRequest, problems
from .index import IndexIncompatible, IndexMissing
from .mcp_stdio import answering
from .records import Refusal, error_body
from .service import NO_ARTICLE, SearchService, no_index_reason

log = logging.getLogger(__name__)

QUOTE_RULE = (
    "Every sentence of `summary.sentences` is quoted word for word from a news article; each citation "
    "names the article (`article_id`) and the exact characters (`start`, `end`) it is quoted from, and "
    "`summary.sources[n-1]` its title, outlet, date and url. When you use a sentence, quote it exactly "
    "as given, in quotation marks, and cite its source (outlet, date, title or url); never reword a "
    "quoted sentence or state something the sentences do not."
)
SEARCH_ABOUT = (
    "Search a news archive: the best matching articles (title, outlet, date, url, snippet), ranked, "
    "and (unless summary=false) a brief of quoted, cited sentences. " + QUOTE_RULE
)
ASK_ABOUT = (
    "Answer a question from a news archive with a brief: sentences quoted verbatim from the articles, "
    "each with its citation, plus the articles it drew on. "
    + QUOTE_RULE
    + " If `summary.abstained` is set, the archive holds no answer: say so rather than guess."
)
ARTICLE_ABOUT = (
    "The full cleaned text of one article by its `article_id` (16 hex digits, from a search or ask "
    "result), with title, outlet, date and url. text[start:end] is exactly the sentence a citation "
    "quotes: read it for context before relying on a quote. When `previous_id` is set, the id asked for "
    "belonged to an earlier version of the article, since edited: offsets quoted from that version may "
    "not fit this text."
)
ARTICLE_SCHEMA = {
    "type": "object",
    "required": ["article_id"],
    "additionalProperties": False,
    "properties": {
        "article_id": {
            "type": "string",
            "pattern": "^[0-9a-f]{16}$",
            "description": "The article's id, from a search or ask result",
        }
    },
}


def request_schema(without: tuple[str, ...] = ()) -> dict[str, Any]:
    """The contract's JSON schema: `q` and the search parameters under their API names."""
    schema = SearchRequest.model_json_schema()
    for name in without:
        schema["properties"].pop(name, None)
    return schema


def tools() -> list[types.Tool]:
    """The three tools, each described so an agent quotes and cites."""
    return [
        types.Tool(name="search", description=SEARCH_ABOUT, input_schema=request_schema()),
        types.Tool(name="ask", description=ASK_ABOUT, input_schema=request_schema(("summary",))),
        types.Tool(name="article", description=ARTICLE_ABOUT, input_schema=ARTICLE_SCHEMA),
    ]


class Tools:
    """What each tool does, on one service (the model loads on the first call)."""

    def __init__(self, service: SearchService) -> None:
        self.service = service
        self.run: dict[str, Callable[[dict], dict]] = {"search": self.search, "ask": self.ask, "article": self.article}

    def search(self, arguments: dict) -> dict:
        return self.service.search(SearchRequest.model_validate(arguments)).to_dict()

    def ask(self, arguments: dict) -> dict:
        request = SearchRequest.model_validate({**arguments, "summary": True})
        return self.service.search(request).to_dict()

    def article(self, arguments: dict) -> dict:
        view = self.service.article(str(arguments.get("article_id", "")))
        if view is None:
            raise Refusal(404, "not_found", NO_ARTICLE, "article_id")
        return view.to_dict()

    def call(self, name: str, arguments: dict) -> tuple[dict, bool]:
        """A tool's JSON and whether it is an error (in the API's error shape, never a traceback)."""
        if name not in self.run:
            return error_body("not_found", f"no tool named {name!r}; the tools are search, ask and article"), True
        try:
            return self.run[name](arguments), False
        except ValidationError as exc:
            where, message = problems(exc)[0]
            return error_body("invalid_request", f"{where}: {message}" if where else message, where or None), True
        except Refusal as exc:
            return exc.body(), True
        except (IndexMissing, IndexIncompatible) as exc:
            log.warning("no index to serve: %s", exc)
            return error_body("no_index", no_index_reason(exc)), True


def make_server(settings: Settings) -> Server:
    """The MCP server over a service of these settings."""
    handlers = Tools(SearchService(settings))

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools())

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        # The search holds the CPU for tens of ms: in a worker thread, so the protocol keeps answering.
        body, failed = await anyio.to_thread.run_sync(handlers.call, params.name, params.arguments or {})
        text = json.dumps(body, ensure_ascii=False)
        return types.CallToolResult(content=[types.TextContent(text=text)], is_error=failed)

    return Server(
        "semsearch", version=__version__, instructions=QUOTE_RULE, on_list_tools=list_tools, on_call_tool=call_tool
    )


def serve_stdio(settings: Settings) -> None:
    """Run the MCP server on this process's stdin and stdout until the client closes stdin and every request
    read has its reply."""
    server = make_server(settings)

    async def run() -> None:
        async with stdio_server() as (read, write):
            reader, writer = answering(read, write)
            await server.run(reader, writer, server.create_initialization_options())

    anyio.run(run)
