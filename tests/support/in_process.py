"""The real app in process: a loopback test client, and whole SSE streams through ASGI."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import falcon.testing


class LocalClient(falcon.testing.TestClient):
    """Falcon's simulated requests say "falconframework.org" unless told; the proxy serves
    loopback host names only."""

    def simulate_request(self, *args: Any, **kwargs: Any) -> falcon.testing.Result:
        kwargs.setdefault("host", "127.0.0.1")
        return super().simulate_request(*args, **kwargs)


def post_raw(asgi_app: Any, body: bytes, path: str = "/v1/messages") -> tuple[int, bytes]:
    """(status, whole body) of one POST, streamed or not, driven through ASGI directly.

    ``simulate_post`` disconnects at once and so cuts an SSE stream short.
    """
    scope = falcon.testing.create_scope(
        path=path, method="POST", host="127.0.0.1", headers={"content-type": "application/json"}
    )
    collector = falcon.testing.ASGIResponseEventCollector()
    asyncio.run(asgi_app(scope, falcon.testing.ASGIRequestEventEmitter(body), collector))
    assert collector.status is not None
    return int(collector.status), b"".join(collector.body_chunks)


def sse_frames(raw: bytes) -> list[tuple[str, Any]]:
    """(event name, parsed data) for each SSE frame; the bytes must be valid UTF-8."""
    events = []
    for frame in raw.decode("utf-8").strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events
