"""Structured logs (structlog over the standard library): one JSON or key=value line per event.

Every line of a request carries its ``request_id``; the access line adds route template, account
id, status and duration. What never goes into a log: API keys, customer ids, signed URLs, image
bytes; routes are logged by template and no request body or query is logged.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

import structlog

QUIET_LOGGERS = ("httpx", "httpcore", "sqlalchemy", "multipart", "python_multipart", "PIL")


def _exceptions_as_locations(
    logger: object, method_name: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """Any record's exception (ours, Uvicorn's, a library's) is logged as its type and code
    locations, never as a traceback: rendered tracebacks carry messages and, in the console
    renderer, every frame's local variables (the server secret, API keys, request bodies)."""
    exc_info = event_dict.pop("exc_info", None)
    event_dict.pop("stack_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        event_dict.update(exception_fields(exc_info))
    elif isinstance(exc_info, tuple) and isinstance(exc_info[1], BaseException):
        event_dict.update(exception_fields(exc_info[1]))
    return event_dict


_SHARED = [
    _exceptions_as_locations,
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    """Route the standard library's and structlog's records through one formatter."""
    renderer = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Uvicorn's access log prints raw paths (customer ids) and queries (signatures): off.
    logging.getLogger("uvicorn.access").disabled = True
    # Libraries that log URLs (fetched customer photos), SQL parameters (customer ids) or
    # request bodies stay at WARNING whatever the level asked for.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)


def exception_fields(exc: BaseException) -> dict[str, object]:
    """Where an exception happened, without its message.

    Messages can carry personal data (a database error prints the row's values, customer id
    included), so logs get the exception type and the code locations only.
    """
    frames = traceback.extract_tb(exc.__traceback__)[-6:]
    return {
        "error": type(exc).__name__,
        "where": [f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames],
    }
