"""Remembering, per model, that Nexus refused something, so it is not asked again at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import attrs

DEFAULT_SECONDS = 600.0


@attrs.define
class Cooldown:
    """Keys put on hold for ``seconds``; thread-safe, as requests arrive in parallel."""

    seconds: float = DEFAULT_SECONDS
    clock: Callable[[], float] = time.monotonic
    _until: dict[str, float] = attrs.field(factory=dict)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def on_hold(self, key: str) -> bool:
        """True while ``key`` is still within its hold period."""
        with self._lock:
            return self.clock() < self._until.get(key, float("-inf"))

    def hold(self, key: str) -> None:
        """Put ``key`` on hold for ``seconds`` from now, restarting any earlier hold."""
        with self._lock:
            self._until[key] = self.clock() + self.seconds
