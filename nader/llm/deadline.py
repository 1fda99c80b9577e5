"""A total deadline on every HTTP call a provider makes: connect, send and every read together.

httpx's timeouts bound each socket operation, not the call: a server that sends one byte every
two seconds keeps a call with ``read=5`` alive for as long as it likes. httpx has no total
timeout (its maintainers point to cancellation for that), and the vendor SDKs call it
synchronously. So the deadline goes where every wait happens: the SDK gets an ``http_client``
whose transport uses an httpcore network backend (httpcore's documented extension point) that
caps each connect, read and write at the time left before the deadline. When it is used up the
socket operation raises httpcore's own timeout, which httpx and the SDK turn into their usual
timeout error, so nothing downstream changes.

The deadline is per call and per thread: :func:`deadline_at` sets it in a context variable for
the duration of one provider call (the :class:`~nader.llm.client.LLMClient` does this for every
attempt); without one, only the per-operation timeouts apply.

The SDKs ship their own httpx fork (``httpx2``/``httpcore2`` at the time of writing); the
transport is built from whichever pair the SDK uses (:func:`deadline_http_client`).

A client given its own transport no longer reads ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/
``NO_PROXY`` (httpx reads them only for the transports it makes), so the proxies the environment
names are mounted here, read by httpx's own function for it: an HTTP(S) proxy gets a deadline
transport that connects through it, a ``NO_PROXY`` host goes direct, as with httpx itself. A
SOCKS proxy is used through httpx's own transport, where only the per-operation timeouts apply.
"""

from __future__ import annotations

import importlib
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType
from typing import Any

_DEADLINE: ContextVar[float | None] = ContextVar("nader_llm_call_deadline", default=None)


@contextmanager
def deadline_at(deadline: float | None) -> Iterator[None]:
    """Calls made inside the block end by ``deadline`` (a ``time.monotonic()`` value)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds before the current call's deadline (never negative), or None without one."""
    deadline = _DEADLINE.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _capped(timeout: float | None) -> float | None:
    left = time_left()
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


def deadline_http_client(sdk: ModuleType, *, max_connections: int = 100) -> Any:
    """An ``http_client`` for ``sdk`` (``anthropic`` or ``openai``) that honours the deadline.

    It is the SDK's own ``DefaultHttpxClient`` (its redirects, limits and defaults) with the
    transport swapped for one on the deadline-aware network backend.
    """
    client_class = next(c for c in sdk.DefaultHttpxClient.__mro__ if c.__name__ == "Client")
    httpx = importlib.import_module(client_class.__module__.split(".")[0])
    httpcore = importlib.import_module(httpx.__name__.replace("httpx", "httpcore", 1))
    transport = _deadline_transport(httpx, httpcore, max_connections)
    mounts = {
        pattern: None
        if url is None  # NO_PROXY: the direct transport
        else _deadline_transport(httpx, httpcore, max_connections, httpx.Proxy(url=url))
        for pattern, url in _environment_proxies(httpx).items()
    }
    return sdk.DefaultHttpxClient(transport=transport, mounts=mounts)


def _environment_proxies(httpx: ModuleType) -> dict[str, str | None]:
    """URL pattern → proxy URL (None: no proxy) from the environment, by httpx's own reading
    of it (curl's ``NO_PROXY`` rules included)."""
    utils = importlib.import_module(f"{httpx.__name__}._utils")
    read: Any = getattr(utils, "get_environment_proxies", None)
    if read is not None:
        return dict(read())
    if not urllib.request.getproxies():
        return {}
    # a later httpx moved its reader: better no call than calls that bypass the user's proxy
    raise RuntimeError(
        f"{httpx.__name__} no longer has get_environment_proxies, so the proxy in the "
        "environment cannot be honoured: update nader"
    )


def _deadline_transport(
    httpx: ModuleType, httpcore: ModuleType, max_connections: int, proxy: Any = None
) -> Any:
    """An httpx transport over an httpcore pool (through ``proxy``, an ``httpx.Proxy``, if
    given) whose sockets respect the deadline."""
    if proxy is not None and proxy.url.scheme not in ("http", "https"):
        return httpx.HTTPTransport(proxy=proxy)  # SOCKS: httpx's own (no total deadline)

    class DeadlineStream(httpcore.NetworkStream):  # type: ignore[misc, name-defined]
        def __init__(self, stream: Any) -> None:
            self._stream = stream

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._stream.read(max_bytes, _checked(timeout, httpcore.ReadTimeout))  # type: ignore[no-any-return]

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._stream.write(buffer, _checked(timeout, httpcore.WriteTimeout))

        def close(self) -> None:
            self._stream.close()

        def start_tls(
            self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
        ) -> Any:
            return DeadlineStream(
                self._stream.start_tls(
                    ssl_context, server_hostname, _checked(timeout, httpcore.ConnectTimeout)
                )
            )

        def get_extra_info(self, info: str) -> Any:
            return self._stream.get_extra_info(info)

    class DeadlineBackend(httpcore.NetworkBackend):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self._backend = httpcore.SyncBackend()

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> Any:
            stream = self._backend.connect_tcp(
                host,
                port,
                _checked(timeout, httpcore.ConnectTimeout),
                local_address,
                socket_options,
            )
            return DeadlineStream(stream)

        def connect_unix_socket(
            self, path: str, timeout: float | None = None, socket_options: Any = None
        ) -> Any:
            stream = self._backend.connect_unix_socket(
                path, _checked(timeout, httpcore.ConnectTimeout), socket_options
            )
            return DeadlineStream(stream)

        def sleep(self, seconds: float) -> None:
            self._backend.sleep(seconds)

    core_errors = (
        httpcore.TimeoutException,
        httpcore.NetworkError,
        httpcore.ProtocolError,
        httpcore.ProxyError,
        httpcore.UnsupportedProtocol,
    )

    def mapped(err: Exception) -> Exception:
        """httpcore's exception as the httpx one of the same name (the SDKs catch those)."""
        kind = getattr(httpx, type(err).__name__, None)
        if isinstance(kind, type) and issubclass(kind, httpx.TransportError):
            return kind(str(err))  # type: ignore[no-any-return]
        return httpx.TransportError(str(err))  # type: ignore[no-any-return]

    class ResponseStream(httpx.SyncByteStream):  # type: ignore[misc, name-defined]
        def __init__(self, stream: Any) -> None:
            self._stream = stream

        def __iter__(self) -> Iterator[bytes]:
            try:
                yield from self._stream
            except core_errors as err:
                raise mapped(err) from err

        def close(self) -> None:
            if hasattr(self._stream, "close"):
                self._stream.close()

    class DeadlineTransport(httpx.BaseTransport):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            pool_options: dict[str, Any] = {
                "ssl_context": httpx.create_ssl_context(),
                "max_connections": max_connections,
                "max_keepalive_connections": max_connections // 5,
                "keepalive_expiry": 5.0,
                "network_backend": DeadlineBackend(),
            }
            if proxy is None:
                self._pool = httpcore.ConnectionPool(**pool_options)
            else:  # as httpx's HTTPTransport connects through an HTTP(S) proxy
                self._pool = httpcore.HTTPProxy(
                    proxy_url=httpcore.URL(
                        scheme=proxy.url.raw_scheme,
                        host=proxy.url.raw_host,
                        port=proxy.url.port,
                        target=proxy.url.raw_path,
                    ),
                    proxy_auth=proxy.raw_auth,
                    proxy_headers=proxy.headers.raw,
                    proxy_ssl_context=proxy.ssl_context,
                    **pool_options,
                )

        def handle_request(self, request: Any) -> Any:
            core_request = httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
            try:
                response = self._pool.handle_request(core_request)
            except core_errors as err:
                raise mapped(err) from err
            return httpx.Response(
                status_code=response.status,
                headers=response.headers,
                stream=ResponseStream(response.stream),
                extensions=response.extensions,
            )

        def close(self) -> None:
            self._pool.close()

    def _checked(timeout: float | None, expired: type[Exception]) -> float | None:
        capped = _capped(timeout)
        if capped is not None and capped <= 0:
            raise expired("the call's deadline has passed")
        return capped

    return DeadlineTransport()
