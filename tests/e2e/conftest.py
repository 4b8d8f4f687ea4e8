"""Fixtures of the black-box suite: a tiny image web server and the blob folder."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tryon.context import AppContext
from tryon.jobs.queue import EmbeddedConsumer
from tryon.server import RunningServer, start_server


@pytest.fixture
def server(context: AppContext) -> Iterator[RunningServer]:
    """Overrides tests/conftest.py: the same server and worker, without the periodic sweeper.

    The sweeper runs on wall-clock minutes (every 5): one firing in the middle of a test that
    moved the ManualClock would expire data before the test looks. Tests call ``sweep`` when
    they mean to; the real periodic sweeper runs in test_e2e_real_process.py.
    """
    running = start_server(context, worker=False)
    assert context.queue is not None
    # Polls the queue every 20-50 ms (the embedded default backs off to 0.5 s): a generation
    # is picked up at once and the worker stops fast, which keeps the suite quick.
    consumer = EmbeddedConsumer(
        context.queue.huey,
        workers=context.settings.worker_threads,
        periodic=False,
        worker_type="thread",
        initial_delay=0.02,
        max_delay=0.05,
        backoff=1.1,
        check_worker_health=False,
    )
    consumer.start()
    yield running
    running.stop()
    consumer.stop(graceful=True)


class ImageServer:
    """Serves registered bytes on 127.0.0.1; any other path answers 404."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.hits: dict[str, int] = {}
        routes, hits = self.routes, self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits[self.path] = hits.get(self.path, 0) + 1
                found = routes.get(self.path)
                if found is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, content_type = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def add(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve ``data`` at ``path``; returns its absolute URL."""
        self.routes[path] = (data, content_type)
        return self.url(path)

    def url(self, path: str) -> str:
        return self.base_url + path

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def image_server() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.close()


@pytest.fixture
def blob_root(context: AppContext) -> Path:
    """The folder where the server keeps stored objects."""
    return context.settings.resolved_data_dir() / "blobs"
