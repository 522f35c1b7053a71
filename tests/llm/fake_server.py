"""A scripted OpenAI-compatible chat server on 127.0.0.1 that records every request (offline LLM tests)."""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nodes.llm_client import DEFAULT_MODEL


@dataclass
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    body: dict[str, Any] | str = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


def _completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def tool_reply(*calls: tuple[str, Any], content: str | None = None, encode: bool = True) -> Reply:
    """A reply with tool calls (name, arguments); dicts go as JSON strings unless `encode` is False."""
    def wire(args: Any) -> Any:
        return json.dumps(args) if encode and not isinstance(args, str) else args

    tool_calls = [{"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": wire(args)}}
                  for i, (name, args) in enumerate(calls)]
    return Reply(body=_completion({"content": content, "tool_calls": tool_calls}, "tool_calls"))


def text_reply(text: str) -> Reply:
    """A plain-text assistant reply."""
    return Reply(body=_completion({"content": text}, "stop"))


def error_reply(status: int, retry_after: str | None = None) -> Reply:
    """An HTTP error with an OpenAI-style body and an optional Retry-After header."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    body = {"error": {"message": f"scripted {status}", "code": status}}
    return Reply(status=status, body=body, headers=headers)


Script = Reply | Callable[[Recorded], Reply]


class FakeLLMServer:
    """Plays `script` in order for POST /v1/chat/completions, then `then` forever; serves GET /v1/models."""

    def __init__(self, *script: Script, then: Script | None = None, model: str = DEFAULT_MODEL):
        self.script, self.then, self.model = list(script), then, model
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of the chat-completion requests, in order."""
        return [r.body or {} for r in self.requests if r.path.endswith("/chat/completions")]

    def add(self, *script: Script) -> None:
        with self._lock:
            self.script.extend(script)

    def __enter__(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            if request.method == "GET" and request.path.rstrip("/").endswith("/models"):
                return Reply(body={"object": "list", "data": [{"id": self.model, "object": "model"}]})
            if not request.path.endswith("/chat/completions"):
                return Reply(status=404, body={"error": {"message": f"no route {request.path}"}})
            step = self.script.pop(0) if self.script else self.then
        if step is None:
            return error_reply(500)
        return step(request) if callable(step) else step

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                reply = server._next(Recorded(method, self.path, dict(self.headers), body))
                data = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                payload = data.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, *args: object) -> None:
                pass

        return Handler
