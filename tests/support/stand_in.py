"""What every MessageStream stand-in of the SSE tests shares: being closed, once, by its owner."""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator
from typing import Self

from falcon.asgi import SSEvent

from adapters.http import sse
from adapters.http.disconnect import Disconnected
from adapters.http.threads import BlockingRunner


class ClosedByOwner:
    """``closed`` is set by ``close()``, which leaving a ``with`` block on it calls."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def events_of(upstream: ClosedByOwner) -> AsyncGenerator[SSEvent, None]:
    """``sse.stream_events`` over a stand-in, with the tests' settings: no pings, no idle end."""
    return sse.stream_events(
        upstream,  # type: ignore[arg-type]
        runner=BlockingRunner(2),
        disconnected=Disconnected(),
        ping_interval=60.0,
        request_id="req_test",
        idle_limit=60.0,
    )
