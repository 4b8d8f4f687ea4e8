"""Per-account rate limit: headers on every response, 429 RATE_LIMITED with Retry-After."""

from __future__ import annotations

import math

import httpx
from e2e_helpers import assert_error, credits, start_try_on, upload

RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def expected_reset(context) -> int:  # type: ignore[no-untyped-def]
    now = context.clock.now().timestamp()
    return max(1, math.ceil((int(now // 60) + 1) * 60 - now))


def test_every_response_carries_the_headers_and_the_limit_is_enforced(make_shop, context) -> None:
    shop = make_shop(rate_limit=3)
    reset = str(expected_reset(context))
    responses = [
        shop.live.get("/account/credits"),
        shop.live.get("/generations/gen_nope"),  # errors count and carry the headers too
        shop.test.get("/products"),  # live and test keys share the account's limit
    ]
    assert [r.status_code for r in responses] == [200, 404, 200]
    for remaining, response in zip((2, 1, 0), responses, strict=True):
        assert response.headers["RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Remaining"] == str(remaining)
        assert response.headers["RateLimit-Reset"] == reset
        assert "Retry-After" not in response.headers

    limited = shop.live.get("/account/credits")
    assert_error(limited, 429, "RATE_LIMITED")
    assert limited.headers["Retry-After"] == reset
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert limited.headers["RateLimit-Limit"] == "3"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Every endpoint is limited, and a limited try-on spends nothing.
    assert_error(start_try_on(shop.live, "any"), 429, "RATE_LIMITED")
    assert_error(shop.live.post("/images/upload"), 429, "RATE_LIMITED")
    assert_error(shop.live.delete("/customers/c"), 429, "RATE_LIMITED")

    context.clock.advance(seconds=int(reset))
    assert credits(shop.live) == 10
    assert shop.live.get("/account/credits").headers["RateLimit-Remaining"] == "1"


def test_the_limit_is_per_account(make_shop) -> None:
    busy, quiet = make_shop(rate_limit=1), make_shop(rate_limit=1)
    assert busy.live.get("/account/credits").status_code == 200
    assert_error(busy.live.get("/account/credits"), 429, "RATE_LIMITED")
    assert quiet.live.get("/account/credits").status_code == 200


def test_unauthenticated_requests_do_not_use_the_accounts_quota(make_shop, server) -> None:
    shop = make_shop(rate_limit=2)
    with httpx.Client(base_url=server.base_url + "/tryon/v1") as anonymous:
        for _ in range(5):
            assert_error(anonymous.get("/account/credits"), 401, "MISSING_API_KEY")
            response = anonymous.get("/account/credits", headers={"x-api-key": "gk_live_nope"})
            assert_error(response, 401, "INVALID_API_KEY")
    assert upload(shop.live)
    assert shop.live.get("/account/credits").headers["RateLimit-Remaining"] == "0"


def test_default_limit_is_100_per_minute(server, context) -> None:
    from tryon.accounts import service as accounts_service
    from tryon.db import transaction

    with transaction(context.sessions) as session:
        account = accounts_service.create_account(session, context.clock.now(), "Default")
        key = accounts_service.create_key(session, context.clock.now(), account.id)
    with httpx.Client(base_url=server.base_url + "/tryon/v1", headers={"x-api-key": key}) as client:
        response = client.get("/account/credits")
        assert response.headers["RateLimit-Limit"] == "100"
        assert response.headers["RateLimit-Remaining"] == "99"
