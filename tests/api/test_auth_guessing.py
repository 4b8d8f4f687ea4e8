"""Key guessing is slowed down: failed authentications are limited per client address."""

from __future__ import annotations

import httpx

from tryon.server import RunningServer


def test_failed_authentications_are_limited_per_address(server: RunningServer, make_shop) -> None:  # type: ignore[no-untyped-def]
    limit = server.context.settings.failed_auth_limit_per_minute
    shop = make_shop()
    base = server.base_url + "/tryon/v1"
    with httpx.Client(base_url=base) as client:
        for attempt in range(limit):
            guess = client.get("/account/credits", headers={"x-api-key": f"gk_live_guess{attempt}"})
            assert guess.status_code == 401
            assert guess.json()["code"] == "INVALID_API_KEY"
        refused = client.get("/account/credits", headers={"x-api-key": "gk_live_one_more"})
        assert refused.status_code == 429
        assert refused.json() == {
            "code": "RATE_LIMITED",
            "message": refused.json()["message"],
            "status": 429,
        }
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # Even the right key is refused from that address until the window ends...
        assert shop.live.get("/account/credits").status_code == 429
        # ...and it works again in the next minute.
        server.context.clock.advance(seconds=61)  # type: ignore[attr-defined]
        assert shop.live.get("/account/credits").status_code == 200
