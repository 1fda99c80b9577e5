"""A fake Anthropic / OpenAI HTTP server on 127.0.0.1 that the real SDKs talk to.

The server speaks just enough of ``POST /v1/messages`` and ``POST /v1/chat/completions`` for
the SDKs to parse its answers. Each test scripts the replies (status, headers, body, delay) and
then inspects what the server received, so the tests exercise real wire traffic: real JSON
bodies, real headers, real sockets and real client timeouts.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from nader.llm.base import LLMRequest, Message

FAKE_API_KEY = "sk-test-SECRET-do-not-leak-4f1d2c"


def read_request_head(connection: socket.socket) -> bytes | None:
    """What a raw socket server has read once a request's head is complete (the head, the blank
    line, and any body bytes that came with it), or None when the client closed first."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        received += chunk
    return received


@dataclass
class ScriptedReply:
    """One answer the server gives: a JSON body (or raw bytes), status, headers, delay."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    delay_s: float = 0.0


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: Any


class FakeLLMServer:
    """A threaded HTTP server answering scripted replies in order, recording every request."""

    def __init__(self) -> None:
        self.replies: deque[ScriptedReply] = deque()
        #: answers every request the script does not (sees the request: echo servers)
        self.responder: Callable[[ReceivedRequest], ScriptedReply] | None = None
        self.received: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", "0"))
                raw_body = self.rfile.read(length)
                try:
                    body = json.loads(raw_body)
                except ValueError:
                    body = raw_body.decode("utf-8", "replace")
                received = ReceivedRequest(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with server._lock:
                    server.received.append(received)
                    reply = server.replies.popleft() if server.replies else None
                if reply is None and server.responder is not None:
                    reply = server.responder(received)
                if reply is None:
                    reply = ScriptedReply(body={"error": "no scripted reply"}, status=500)
                if reply.delay_s and server._closing.wait(reply.delay_s):
                    return
                payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (timeout tests)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def root_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *replies: ScriptedReply) -> None:
        self.replies.extend(replies)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class DripServer:
    """An HTTP server on 127.0.0.1 that sends its whole answer (status line and headers
    included) one byte every ``interval_s`` seconds: each socket read gets a byte well inside
    any per-read timeout, so only a deadline on the whole call ends it."""

    def __init__(self, body: dict[str, Any], interval_s: float) -> None:
        payload = json.dumps(body).encode()
        self.response = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        self.interval_s = interval_s
        self.requests = 0
        self._closing = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def root_url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._closing.set()
        self._listener.close()

    def _serve(self) -> None:
        while not self._closing.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection: socket.socket) -> None:
        with connection:
            if read_request_head(connection) is None:
                return
            self.requests += 1
            for byte in self.response:
                if self._closing.wait(self.interval_s):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up: what the tests want


def anthropic_message(
    text: str = "0:input\n1:output\n0->1",
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 120,
    output_tokens: int = 30,
    cache_read: int = 0,
    cache_creation: int = 0,
    model: str = "claude-sonnet-4-5",
    content: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Messages API response body as the Anthropic service sends it."""
    return {
        "id": "msg_fake_01",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content if content is not None else [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": cache_creation,
        },
    }


def openai_completion(
    text: str | None = "0:input\n1:output\n0->1",
    *,
    finish_reason: str = "stop",
    prompt_tokens: int = 200,
    completion_tokens: int = 40,
    cached_tokens: int = 0,
    refusal: str | None = None,
    model: str = "gpt-4o",
    choices: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Chat Completions response body as the OpenAI service (or vLLM) sends it."""
    return {
        "id": "chatcmpl-fake-01",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": choices
        if choices is not None
        else [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    }


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle``."""
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stopwatch:
    """Seconds since it was made."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started


class RecordingSleep:
    """An injectable ``sleep`` that records the requested waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


# --- the two vendors' wire formats, so one test can run against both --------------------------


@dataclass(frozen=True)
class Vendor:
    """How one vendor's API is reached and what its answers look like on the wire."""

    provider: str
    model: str
    path: str
    api_root_suffix: str

    def base_url(self, server: FakeLLMServer) -> str:
        return server.root_url + self.api_root_suffix

    def answer(
        self,
        text: str = "0:input\n1:output\n0->1",
        *,
        input_tokens: int = 120,
        output_tokens: int = 30,
    ) -> dict[str, Any]:
        """A plain answer (no prompt caching involved)."""
        if self.provider == "anthropic":
            return anthropic_message(
                text, model=self.model, input_tokens=input_tokens, output_tokens=output_tokens
            )
        return openai_completion(
            text, model=self.model, prompt_tokens=input_tokens, completion_tokens=output_tokens
        )

    def refusal(self) -> dict[str, Any]:
        if self.provider == "anthropic":
            return anthropic_message("", stop_reason="refusal", content=[], model=self.model)
        return openai_completion(None, refusal="I can't help with that.", model=self.model)

    def truncated(self, partial: str) -> dict[str, Any]:
        if self.provider == "anthropic":
            return anthropic_message(partial, stop_reason="max_tokens", model=self.model)
        return openai_completion(partial, finish_reason="length", model=self.model)

    def empty(self) -> dict[str, Any]:
        if self.provider == "anthropic":
            return anthropic_message("", content=[], model=self.model)
        return openai_completion("", model=self.model)

    def request_id_header(self, value: str) -> dict[str, str]:
        return {"request-id" if self.provider == "anthropic" else "x-request-id": value}


ANTHROPIC = Vendor("anthropic", "claude-haiku-4-5", "/v1/messages", "")
OPENAI = Vendor("openai", "gpt-4o", "/v1/chat/completions", "/v1")
VENDORS = (ANTHROPIC, OPENAI)

#: A stand-in for the long static prompt prefix (format definition, operator list).
STATIC_PREFIX = "You design neural network blocks in the NADER block text format.\n" * 20


def design_request(
    user: str = "Add a squeeze-and-excitation branch after node 4.",
    *,
    task: str = "modify_block",
    role: str = "modifier",
    architecture: str | None = "arch-1",
    temperature: float | None = None,
) -> LLMRequest:
    return LLMRequest(
        task=task,
        messages=(Message("system", STATIC_PREFIX, cache=True), Message("user", user)),
        fields={"suggestion": user},
        role=role,
        architecture=architecture,
        temperature=temperature,
    )
