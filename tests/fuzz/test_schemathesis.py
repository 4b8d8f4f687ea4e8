"""Schemathesis against the served OpenAPI document: no 500, every error in the catalog's shape.

Each operation is called with a valid key of an account that has credits, so requests get past
authentication into validation and the services (missing and wrong keys are covered in tests/e2e).
The schema is driven through Hypothesis directly, one test per operation: schemathesis' own pytest
plugin does not run under this pytest version.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tryon.accounts import service as accounts_service
from tryon.app import create_app
from tryon.config import Settings
from tryon.context import build_context
from tryon.db import transaction
from tryon.errors import CATALOG

MAX_EXAMPLES = 40

# One server state for the whole module: operations build on what earlier examples created.
_context = build_context(
    Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="tryon-fuzz-")),
        engine="placeholder",
        sync_timeout_seconds=2,
    )
)
with transaction(_context.sessions) as _session:
    _account = accounts_service.create_account(
        _session, _context.clock.now(), "fuzz", credits=100_000, rate_limit=10**6
    )
    API_KEY = accounts_service.create_key(_session, _context.clock.now(), _account.id)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", create_app(_context))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def check_response(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) <= {"code", "message", "status", "details"}, body
        assert body["code"] in CATALOG, body
        assert body["status"] == response.status_code == CATALOG[body["code"]], body
        assert isinstance(body["message"], str) and "Traceback" not in body["message"]
        if body["code"] == "VALIDATION_FAILED":
            assert isinstance(body["details"], list)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_operation_never_fails_with_500(operation: Any) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        check_response(case.call(headers={"x-api-key": API_KEY}))

    run()


def test_every_operation_is_covered() -> None:
    labels = {op.label for op in OPERATIONS}
    assert {
        "POST /tryon/v1/images/upload",
        "POST /tryon/v1/try-on",
        "POST /tryon/v1/try-on/sync",
        "GET /tryon/v1/generations/{generation_id}",
        "POST /tryon/v1/products",
        "GET /tryon/v1/products",
        "GET /tryon/v1/products/{external_id}",
        "DELETE /tryon/v1/products/{external_id}",
        "GET /tryon/v1/account/credits",
        "DELETE /tryon/v1/customers/{customer_id}",
    } <= labels, labels
