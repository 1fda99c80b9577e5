"""A real HTTP forward proxy on 127.0.0.1, as a corporate proxy in ``HTTP_PROXY`` is one.

It takes requests in absolute form (``POST http://127.0.0.1:PORT/v1/messages HTTP/1.1``),
forwards each to its origin with ``Connection: close``, and relays the origin's bytes back as
they arrive (a dripping origin drips through it). It keeps the URL of every request it
forwarded, so a test can tell whether a client went through it.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from urllib.parse import urlsplit

from fake_llm_server import read_request_head


class _Handler(socketserver.BaseRequestHandler):
    server: ForwardProxy

    def handle(self) -> None:
        client: socket.socket = self.request
        received = read_request_head(client)
        if received is None:
            return
        head, _, body = received.partition(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, url, version = request_line.split(" ")
        headers = [line.split(":", 1) for line in header_lines if ":" in line]
        length = next((int(v) for k, v in headers if k.strip().lower() == "content-length"), 0)
        while len(body) < length:
            body += client.recv(65536)
        self.server.urls.append(url)
        target = urlsplit(url)
        path = target.path + (f"?{target.query}" if target.query else "")
        kept = [f"{k}:{v}" for k, v in headers if k.strip().lower() not in ("connection",)]
        forwarded = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close"])
        with socket.create_connection((target.hostname, target.port or 80), timeout=30) as origin:
            origin.sendall(forwarded.encode("latin-1") + b"\r\n\r\n" + body)
            try:
                while chunk := origin.recv(65536):
                    client.sendall(chunk)
            except OSError:
                return  # the client gave up (its deadline): stop relaying


class ForwardProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.urls: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ForwardProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
