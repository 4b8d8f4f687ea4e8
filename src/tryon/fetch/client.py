"""Download an image URL with timeouts, a byte cap and a bounded number of redirects.

PARTIAL: address checks against server-side request forgery (private, loopback and metadata
addresses; DNS rebinding) are not done yet; they come with the hostile-input work (issue 5).
"""

from __future__ import annotations

import httpx

MAX_REDIRECTS = 3


class FetchError(Exception):
    """The URL could not be downloaded; the message is safe to show to the caller."""


def fetch_bytes(url: str, *, max_bytes: int, timeout: float) -> bytes:
    """GET ``url`` and return its body; FetchError on any failure, size overrun or bad status."""
    current = url
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                if not current.lower().startswith(("http://", "https://")):
                    raise FetchError("only http and https URLs can be fetched")
                with client.stream("GET", current) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError("redirect without a location")
                        current = str(response.url.join(location))
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"the server answered {response.status_code}")
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise FetchError("the file is too large")
                    chunks: list[bytes] = []
                    total = 0
                    for chunk in response.iter_bytes():
                        total += len(chunk)
                        if total > max_bytes:
                            raise FetchError("the file is too large")
                        chunks.append(chunk)
                    return b"".join(chunks)
            raise FetchError(f"more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException as exc:
        raise FetchError("the download timed out") from exc
    except httpx.HTTPError as exc:
        raise FetchError("the download failed") from exc
