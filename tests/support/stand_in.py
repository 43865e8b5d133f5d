"""What every MessageStream stand-in of the SSE tests shares: being closed, once, by its owner."""

from __future__ import annotations

import threading
from typing import Self


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
