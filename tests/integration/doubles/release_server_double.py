"""A release server double: serves a directory of release files (the runner
tarball, the micromamba double) over HTTP and records which paths were fetched.

    python -m doubles.release_server_double DIR --host 127.0.0.1 --port 8081
"""

from __future__ import annotations

import argparse
import functools
import threading
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

from doubles.serving import ServesHTTP


class ReleaseServerDouble(ServesHTTP):
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.fetched: list[tuple[str, int]] = []  # (path, status)

    def serve(self, host: str, port: int = 0) -> str:
        double = self

        class Handler(SimpleHTTPRequestHandler):
            def log_request(self, code: Any = "-", size: Any = "-") -> None:
                double.fetched.append((self.path, int(code) if str(code).isdigit() else 0))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        handler = functools.partial(Handler, directory=str(self.directory))
        return self._serve(handler, host, port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    print(ReleaseServerDouble(args.directory).serve(args.host, args.port), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
