"""A small HTTP service on the loopback that records what it receives and answers as a test tells it:
a provider's interface service, or a consumer's webhook."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.support.server import free_port


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[Received], Reply]


class Recorder:
    """``routes`` maps a path prefix to a function of the request giving the reply; the longest
    matching prefix answers, else 404."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.received: list[Received] = []
        self.routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Received(
                    self.command,
                    parts.path,
                    parts.query,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with recorder._lock:
                    recorder.received.append(request)
                reply = recorder._route(request)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                if isinstance(payload, dict | list):
                    payload = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                elif isinstance(payload, str):
                    payload = payload.encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the platform gave up waiting

            do_GET = do_POST = _serve

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True

    def _route(self, request: Received) -> Reply:
        matches = [p for p in self.routes if request.path.startswith(p)]
        if not matches:
            return Reply(404, {"detail": "no such path"})
        return self.routes[max(matches, key=len)](request)

    def requests(self, path_prefix: str = "") -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path.startswith(path_prefix)]

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, name=f"recorder-{self.port}", daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def recording() -> Iterator[Recorder]:
    recorder = Recorder()
    recorder.start()
    try:
        yield recorder
    finally:
        recorder.stop()
