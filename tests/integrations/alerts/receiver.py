"""A webhook receiver on 127.0.0.1 for the alert tests: records JSON bodies, answers with
the statuses it is told to (200 once the list runs out)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.hits = 0
        self.lock = threading.Lock()
        self.url = ""

    def alerts(self) -> list[tuple[str, str | None, str]]:
        """(productId, variant, state) of every message accepted with a 2xx."""
        return [
            (m["productId"], m["variant"], m["state"])
            for m in self.messages
            if m.get("event") == "inventory.low_stock"
        ]

    def events(self, event: str) -> list[dict[str, Any]]:
        """Every accepted message of one event type (e.g. inventory.reorder_point)."""
        return [m for m in self.messages if m.get("event") == event]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.hits += 1
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status < 300:
                    receiver.messages.append(json.loads(body))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/stock"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
