"""Who blocks a stream's thread tells whoever iterates the stream, just before and after.

The SSE reader steps a stream in one pool thread and, while it works, holds the readers'
lane and gathers SSE bytes (``adapters/http/sse.py``). Before that thread blocks (a socket
read of Nexus, the wait for auto mode's judge) what was gathered must reach the client and
the lane go to another stream; both sides live in different adapters, so they meet here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_hooks = threading.local()


@contextlib.contextmanager
def around_waits(before: Callable[[], None], after: Callable[[], None]) -> Iterator[None]:
    """In this thread, ``before()`` runs just before each blocking wait, ``after()`` after it."""
    previous = getattr(_hooks, "pair", None)
    _hooks.pair = (before, after)
    try:
        yield
    finally:
        _hooks.pair = previous


def blocking(wait: Callable[[], T]) -> T:
    """``wait()``, with this thread's hooks around it if anyone set them."""
    pair: tuple[Callable[[], None], Callable[[], None]] | None = getattr(_hooks, "pair", None)
    if pair is None:
        return wait()
    pair[0]()
    try:
        return wait()
    finally:
        pair[1]()
