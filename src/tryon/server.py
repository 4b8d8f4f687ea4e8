"""Run the API server (and optionally the worker) inside this process, on a free local port.

Used by ``tryon demo``, the benchmarks and the black-box tests: real HTTP over loopback.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from tryon.app import create_app
from tryon.context import AppContext
from tryon.jobs.queue import start_embedded_worker


@dataclass
class RunningServer:
    base_url: str
    context: AppContext
    _server: uvicorn.Server
    _thread: threading.Thread
    _consumer: Any

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._consumer is not None:
            self._consumer.stop(graceful=True)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(context: AppContext, *, worker: bool = True, workers: int = 1) -> RunningServer:
    port = free_port()
    config = uvicorn.Config(
        create_app(context),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        log_config=None,  # Uvicorn logs through our handler (tryon.logs), not its own
        lifespan="off",
        # Uvicorn's access log prints raw paths (customer ids) and queries (signatures).
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tryon-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    consumer = start_embedded_worker(context, workers) if worker else None
    return RunningServer(f"http://127.0.0.1:{port}", context, server, thread, consumer)
