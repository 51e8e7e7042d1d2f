"""ScriptedLLM, a TEST DOUBLE of an OpenAI-compatible chat server: scripted answers, no model at all.

It serves POST /v1/chat/completions on 127.0.0.1 and builds its reply from the numbered evidence
lines of the prompt, following the script the request's model names ("scripted-faithful", ...):
correct citations, citations to evidence that was not given, invented numbers, no citations, and the
failures a real server can have (too slow, connection dropped, malformed JSON, HTTP 500). The tests
use it to exercise the real client, streaming, checking and fallbacks; `semsearch eval answer` runs
against it to record the checker's table:

    python -m tests.scripted_llm --port 8765
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_SECONDS = 30.0
_EVIDENCE = re.compile(r"^\[(\d+)\] (.+)$", re.M)
_FIRST_NUMBER = re.compile(r"\d+(?:,\d{3})*")
# Light rewording that keeps every number and name, so a faithful answer is not a verbatim copy.
_SYNONYMS = {
    "said": "stated",
    "says": "states",
    "about": "around",
    "began": "started",
    "started": "began",
    "announced": "said",
    "workers": "staff",
    "people": "residents",
    "after": "following",
    "before": "ahead of",
    "including": "among them",
    "more than": "over",
    "also": "additionally",
}


def reword(text: str) -> str:
    """An evidence sentence lightly paraphrased, without its closing punctuation and quote marks."""
    text = text.strip().strip('"“”').rstrip('.!"”’ ')
    return re.sub(r"\b(" + "|".join(map(re.escape, _SYNONYMS)) + r")\b", lambda m: _SYNONYMS[m.group(1)], text)


def _faithful(evidence: list[str]) -> list[str]:
    return [f"{reword(e)} [{i}]." for i, e in enumerate(evidence[:3], start=1)]


def _combined(evidence: list[str]) -> list[str]:
    if len(evidence) < 2:
        return _faithful(evidence)
    return [f"{reword(evidence[0])}; {reword(evidence[1])} [1][2]."] + [
        f"{reword(e)} [{i}]." for i, e in enumerate(evidence[2:3], start=3)
    ]


def _misattributed(evidence: list[str]) -> list[str]:
    n = len(evidence)
    return [f"{reword(e)} [{i % n + 1}]." for i, e in enumerate(evidence[:3], start=1)]


def _ungiven(evidence: list[str]) -> list[str]:
    return [f"{reword(e)} [{len(evidence) + i}]." for i, e in enumerate(evidence[:3], start=1)]


def invent_number(text: str, evidence: str) -> str:
    """The sentence with its first number changed (or a year added) so it states a number the evidence lacks."""
    match = _FIRST_NUMBER.search(text)
    if match:
        changed = f"{int(match.group().replace(',', '')) + 7:,}"
        return text[: match.start()] + changed + text[match.end() :]
    year = next(y for y in range(1987, 2100) if str(y) not in evidence)
    return f"{text} in {year}"


def _invented_number(evidence: list[str]) -> list[str]:
    everything = " ".join(evidence)
    return [f"{invent_number(reword(e), everything)} [{i}]." for i, e in enumerate(evidence[:3], start=1)]


def _uncited(evidence: list[str]) -> list[str]:
    return [f"{reword(e)}." for e in evidence[:3]]


INVENTED_CLAIM = "The finance ministry also announced a new tax on imported cars"


def _mixed(evidence: list[str]) -> list[str]:
    return [*_faithful(evidence)[:2], f"{INVENTED_CLAIM} [1]."]


SCRIPTS: dict[str, Callable[[list[str]], list[str]]] = {
    "faithful": _faithful,
    "combined": _combined,
    "mixed": _mixed,
    "misattributed": _misattributed,
    "ungiven": _ungiven,
    "invented-number": _invented_number,
    "uncited": _uncited,
}
FAILURES = ("slow", "drop", "malformed", "error")


def script_of(model: str) -> str:
    """The script a model name asks for ('scripted-faithful' → 'faithful'; unknown names → 'faithful')."""
    name = model.removeprefix("scripted-").removesuffix("-plain")
    return name if name in SCRIPTS or name in FAILURES else "faithful"


def _chunk(content: str | None, finish: str | None = None) -> bytes:
    """One OpenAI-style streaming event."""
    delta = {"content": content} if content is not None else {}
    event = {
        "id": "scripted",
        "object": "chat.completion.chunk",
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(event)}\n\n".encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        self.server.requests.append({"body": body, "headers": dict(self.headers)})
        prompt = body["messages"][-1]["content"]
        evidence = [text for _, text in _EVIDENCE.findall(prompt)]
        script = script_of(body.get("model", ""))
        if script == "error":
            self._send(500, "application/json", b'{"error": {"message": "scripted failure"}}')
            return
        answer = " ".join(SCRIPTS.get(script, _faithful)(evidence))
        if body.get("model", "").endswith("-plain"):  # a server that ignores "stream": one JSON reply
            reply = {
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}]
            }
            self._send(200, "application/json", json.dumps(reply).encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._write(_chunk(""))
        if script == "slow":
            self.server.closing.wait(SLOW_SECONDS)
        if script == "malformed":
            self._write(b'data: {"choices": [{"delta": {"content": "The port\n\n')
        pieces = [answer[i : i + 12] for i in range(0, len(answer), 12)]
        if script == "drop":
            for piece in pieces[: len(pieces) // 2]:
                self._write(_chunk(piece))
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)  # mid-body, with no closing chunk: a dropped connection
            return
        for piece in pieces:
            self._write(_chunk(piece))
        self._write(_chunk(None, "stop") + b"data: [DONE]\n\n")
        self._write(b"")

    def _write(self, data: bytes) -> None:
        """One HTTP chunk (an empty one ends the body)."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[dict]
    closing: threading.Event

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (timeout tests) breaks the pipe; that is expected, not news


class ScriptedLLM:
    """The test double running on 127.0.0.1 in a background thread; `url` is its OpenAI base URL."""

    def __init__(self, port: int = 0) -> None:
        self.httpd = _Server(("127.0.0.1", port), _Handler)
        self.httpd.requests, self.httpd.closing = [], threading.Event()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self) -> list[dict]:
        """Every request received: its JSON body and headers."""
        return self.httpd.requests

    def __enter__(self) -> ScriptedLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def main() -> None:
    """Serve the test double until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    port = parser.parse_args().port
    with ScriptedLLM(port) as llm:
        print(
            f"scripted test double at {llm.url}; models: " + ", ".join(f"scripted-{s}" for s in [*SCRIPTS, *FAILURES]),
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
