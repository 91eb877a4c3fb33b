"""A scripted OpenAI-compatible server on loopback, for retry and gateway tests over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def completion(content: str, *, prompt_tokens: int = 11, completion_tokens: int = 5,
               tool_call: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_call:
        message["tool_calls"] = [{"id": "call_1", "type": "function",
                                  "function": {"name": tool_call["name"], "arguments": json.dumps(tool_call["args"])}}]
    return {
        "id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": "stub",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


@dataclass
class ScriptedReply:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before answering (longer than the client's timeout: a read timeout)
    drop: bool = False  # close the connection without any answer
    stream: list[str] | None = None  # answer as server-sent events, one chunk of text each
    stall_s: float = 0.0  # with stream: send the headers, then wait this long before the first chunk
    cut_after: int | None = None  # send the headers and this many bytes of the body, then close: a killed server


def _sse(text: str, finish: bool = False) -> bytes:
    chunk = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": "stub",
             "choices": [{"index": 0, "delta": {} if finish else {"content": text},
                          "finish_reason": "stop" if finish else None}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


class StubLlmServer:
    """Answers ``/v1/chat/completions`` from a queue of scripted replies and records every request."""

    def __init__(self, *, default_delay_s: float = 0.0) -> None:
        self.replies: deque[ScriptedReply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.default_delay_s = default_delay_s  # for unscripted requests: a slow model
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "stub", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                stub.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                reply = stub.replies.popleft() if stub.replies else ScriptedReply(body=completion("ok"),
                                                                                  delay_s=stub.default_delay_s)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.drop:
                    self.close_connection = True
                    return
                if reply.stream is not None:
                    self._stream(reply)
                    return
                if reply.cut_after is not None:
                    data = json.dumps(reply.body or completion("cut")).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: reply.cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                body = reply.body or {"error": {"message": f"scripted {reply.status}", "type": "stub"}}
                self._send(reply.status, body, reply.headers)

            def _stream(self, reply: ScriptedReply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.flush()
                try:
                    time.sleep(reply.stall_s)
                    for text in reply.stream or []:
                        self.wfile.write(_sse(text))
                        self.wfile.flush()
                    self.wfile.write(_sse("", finish=True) + b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timed out): expected in stall tests
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def script(self, *replies: ScriptedReply) -> None:
        self.replies.extend(replies)

    def __enter__(self) -> StubLlmServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
