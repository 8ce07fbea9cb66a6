"""Serving a double on the test network from a background thread, and stopping it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ServesHTTP:
    """Mixin: `_serve(handler, host, port)` starts the server, `stop()` ends it."""

    _server: ThreadingHTTPServer | None = None

    def _serve(
        self, handler: Callable[..., BaseHTTPRequestHandler] | Any, host: str, port: int
    ) -> str:
        self._server = ThreadingHTTPServer((host, port), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        bound_host, bound_port = self._server.server_address[:2]
        return f"http://{bound_host}:{bound_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
