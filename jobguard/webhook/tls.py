"""The server's TLS context: TLS 1.2+, reused across connections, rebuilt when the files rotate.

gunicorn (checked for the installed 27.x: ``sock.ssl_wrap_socket`` calls the ``ssl_context``
hook for every accepted connection) builds a fresh ``SSLContext`` per connection by default,
which re-reads and re-parses the key and certificate each time (~0.75 ms). That is what makes it
follow a rotation, but it is wasted work on every new connection. :class:`ReloadingContext`
keeps one context per process and only stats the two files per connection; when their inode,
size or mtime change (a Secret volume swaps a symlink, ``jobguard certs`` renames files into
place) it builds a new context. Open keep-alive connections keep their session; new connections
get the new certificate. A half-rotated pair (new key, old certificate for a moment) fails to
load: the previous context stays in use and the next connection tries again, so no request is
dropped.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

FileKey = tuple[int, int, int, int] | None
FIRST_LOAD_ATTEMPTS = 10
FIRST_LOAD_RETRY_DELAY = 0.05


def _file_key(path: str) -> FileKey:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


#: How long one read or write of a worker thread on a client connection may wait. Requests are
#: received whole by the worker's event loop before a thread takes them (jobguard.webhook.worker),
#: so a thread's reads find the bytes there; this bounds the writing of an answer to a client
#: that stops reading, and any read the parser would still make.
STALL_TIMEOUT = 3.0


class StallLimitedSocket(ssl.SSLSocket):
    """A server-side TLS socket whose "blocking" mode has a timeout.

    gunicorn's threads make a connection blocking (``setblocking(True)``, which clears any
    timeout) before reading each request from it, so a client that sends half a request and
    waits would hold the thread until it went away. Here blocking means: wait at most
    :data:`STALL_TIMEOUT` for each read or write, then fail with ``TimeoutError`` and close.
    """

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(STALL_TIMEOUT)
        else:
            super().setblocking(False)


class StallLimitedContext(ssl.SSLContext):
    """A server context making :class:`StallLimitedSocket` connections, whose handshake is
    bounded too (gunicorn wraps each accepted connection in a worker thread)."""

    sslsocket_class = StallLimitedSocket

    def wrap_socket(self, sock: socket.socket, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        sock.settimeout(STALL_TIMEOUT)  # the TLS socket starts with the plain socket's timeout
        return super().wrap_socket(sock, *args, **kwargs)


def build_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    """A server context for the pair; raises ssl.SSLError or OSError when it does not load."""
    context = StallLimitedContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=cert_path, keyfile=key_path)
    # The API server speaks HTTP/1.1 to webhooks here (HTTP/2 through gunicorn measured slower).
    context.set_alpn_protocols(["http/1.1"])
    return context


class ReloadingContext:
    """One process's TLS context for a certificate/key pair on disk."""

    def __init__(
        self,
        cert_path: str,
        key_path: str,
        *,
        logger: logging.Logger | None = None,
        builder: Callable[[str, str], ssl.SSLContext] = build_context,
    ):
        self.cert_path = cert_path
        self.key_path = key_path
        self._builder = builder
        self._log = logger or logging.getLogger("jobguard.webhook")
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None
        self._key: tuple[FileKey, FileKey] | None = None
        self._failed_key: tuple[FileKey, FileKey] | None = None
        self.loads = 0

    def _build(self, *, retry: bool) -> ssl.SSLContext:
        """Build a context; without a previous one to fall back on, ride out a rotation in
        progress (key already replaced, certificate not yet) with a few short retries."""
        attempts = FIRST_LOAD_ATTEMPTS if retry else 1
        for attempt in range(attempts):
            try:
                return self._builder(self.cert_path, self.key_path)
            except (ssl.SSLError, OSError, ValueError):
                if attempt == attempts - 1:
                    raise
                time.sleep(FIRST_LOAD_RETRY_DELAY)
        raise AssertionError("unreachable")

    def _keys(self) -> tuple[FileKey, FileKey]:
        return (_file_key(self.cert_path), _file_key(self.key_path))

    def get(self) -> ssl.SSLContext:
        keys = self._keys()
        context = self._context
        if context is not None and keys == self._key:
            return context
        with self._lock:
            if self._context is not None and keys == self._key:
                return self._context
            try:
                fresh = self._build(retry=self._context is None)
            except (ssl.SSLError, OSError, ValueError) as exc:
                if self._context is None:
                    raise
                if keys != self._failed_key:
                    self._failed_key = keys
                    self._log.warning(
                        {
                            "event": "certificate_reload_failed",
                            "cert": self.cert_path,
                            "error": str(exc),
                            "serving": "previous certificate",
                        }
                    )
                return self._context
            if self._context is not None:
                self._log.info({"event": "certificate_reloaded", "cert": self.cert_path})
            self._context, self._key, self._failed_key = fresh, keys, None
            self.loads += 1
            return fresh


_contexts: dict[tuple[str, str], ReloadingContext] = {}
_contexts_lock = threading.Lock()


def gunicorn_ssl_context(
    conf: Any, default_factory: Callable[[], ssl.SSLContext]
) -> ssl.SSLContext:
    """gunicorn's ``ssl_context`` hook: the process's reloading context for the configured pair."""
    pair = (conf.certfile, conf.keyfile)
    holder = _contexts.get(pair)
    if holder is None:
        with _contexts_lock:
            holder = _contexts.setdefault(pair, ReloadingContext(*pair))
    return holder.get()


def warm_up(conf: Any) -> None:
    """Load the worker's context at boot, so that a worker never meets its first connection
    in the middle of a rotation without a previous certificate to fall back on."""
    gunicorn_ssl_context(conf, ssl.create_default_context)
