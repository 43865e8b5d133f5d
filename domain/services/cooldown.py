"""Remembering, per model or per (model, field), what Nexus refused, so it is not asked again at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

import attrs

DEFAULT_SECONDS = 600.0


@attrs.define
class Cooldown:
    """Keys (a model id, a ``(model id, field)`` pair) put on hold for ``seconds``; thread-safe."""

    seconds: float = DEFAULT_SECONDS
    clock: Callable[[], float] = time.monotonic
    _until: dict[Hashable, float] = attrs.field(factory=dict)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def on_hold(self, key: Hashable) -> bool:
        """True while ``key`` is still within its hold period."""
        with self._lock:
            return self.clock() < self._until.get(key, float("-inf"))

    def hold(self, key: Hashable) -> None:
        """Put ``key`` on hold for ``seconds`` from now, restarting any earlier hold."""
        with self._lock:
            self._until[key] = self.clock() + self.seconds
