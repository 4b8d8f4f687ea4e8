"""The Huey instance of a context: the generation task and the periodic sweeper.

Tasks are closures over the context (no module-level Huey, no import-time state): the API
process enqueues through it, and a worker process built from the same settings consumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from tryon.logs import exception_fields, get_logger

if TYPE_CHECKING:
    from tryon.context import AppContext

log = get_logger("tryon.jobs")
RUN_GENERATION = "run_generation"
SWEEP = "sweep"


@dataclass
class JobQueue:
    huey: Huey
    run_generation: Any  # the Huey task wrapper: calling it enqueues


def build_queue(context: AppContext) -> JobQueue:
    settings = context.settings
    url = settings.queue_url
    if url and url.startswith(("redis://", "rediss://")):
        huey: Huey = RedisHuey("tryon", url=url, results=False)
    else:
        path = settings.resolved_queue_path() if not url else url.removeprefix("sqlite:///")
        huey = SqliteHuey("tryon", filename=str(path), results=False, timeout=30)

    def run_generation(generation_id: str) -> None:
        from tryon.generations.tasks import run_generation as run

        run(context, generation_id)

    def sweep() -> None:
        from tryon.retention.service import sweep as run_sweep

        counts = run_sweep(context)
        log.info("sweep done", **counts)

    run_generation_task = huey.task(name=RUN_GENERATION)(run_generation)
    minutes = max(1, settings.sweep_interval_minutes)
    huey.periodic_task(crontab(minute=f"*/{minutes}"), name=SWEEP)(sweep)
    return JobQueue(huey, run_generation_task)


def enqueue_generation(context: AppContext, generation_id: str) -> None:
    """Queue a generation; a failure here is not fatal: the sweeper re-queues stale ones."""
    assert context.queue is not None
    try:
        context.queue.run_generation(generation_id)
    except Exception as exc:
        log.error(
            "could not enqueue; the sweeper will retry",
            generation_id=generation_id,
            **exception_fields(exc),
        )


class EmbeddedConsumer(Consumer):
    """A consumer that runs inside another program (the API server, tests): no signal handlers."""

    def _set_signal_handlers(self) -> None:
        pass


def start_embedded_worker(context: AppContext, workers: int = 1, periodic: bool = True) -> Any:
    """Start consumer threads in this process; returns the consumer (call ``.stop()``)."""
    assert context.queue is not None
    consumer = EmbeddedConsumer(
        context.queue.huey,
        workers=workers,
        periodic=periodic,
        worker_type="thread",
        initial_delay=0.05,
        max_delay=0.5,
        backoff=1.1,
        check_worker_health=False,
    )
    consumer.start()
    return consumer
