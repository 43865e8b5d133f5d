"""Counting input tokens: Nexus's CountTokens first, a local estimate when it cannot.

Claude Code sizes its context and decides when to compact from this number, and calls
it about fourteen times at once for ``/context``. An error makes it fall back to paid
``max_tokens: 1`` inference calls, so counting never fails: when Nexus cannot count for a
model (no route, no permission, model not supported, too slow), the model is remembered
as uncountable for a while and the estimate answers without a failed round trip.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import attrs

from domain import converse as c
from domain.errors import (
    UpstreamAuthError,
    UpstreamError,
    UpstreamNotFoundError,
    UpstreamRejectedError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from domain.ports import ConverseGateway
from domain.token_estimate import estimate_tokens

# How long a model stays "cannot count" before Nexus is asked again.
RETRY_AFTER_SECONDS = 600.0


def _means_unavailable(error: UpstreamError) -> bool:
    if isinstance(error, UpstreamRejectedError):
        text = error.message.lower()
        return "count" in text and ("support" in text or "not" in text)
    return isinstance(
        error, UpstreamNotFoundError | UpstreamAuthError | UpstreamTimeoutError | UpstreamUnreachableError
    )


@attrs.define
class TokenCounter:
    """Counts through ``gateway``; thread-safe, as counts arrive in parallel."""

    gateway: ConverseGateway
    clock: Callable[[], float] = time.monotonic
    retry_after: float = RETRY_AFTER_SECONDS
    _unavailable_until: dict[str, float] = attrs.field(factory=dict)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def available(self, model_id: str) -> bool:
        with self._lock:
            return self.clock() >= self._unavailable_until.get(model_id, 0.0)

    def count(self, model_id: str, request: c.ConverseRequest) -> int:
        """Nexus's count when it can give one, else the local estimate; never raises."""
        if not self.available(model_id):
            return estimate_tokens(request)
        try:
            return self.gateway.count_tokens(model_id, request)
        except UpstreamError as error:
            if _means_unavailable(error):
                with self._lock:
                    self._unavailable_until[model_id] = self.clock() + self.retry_after
            return estimate_tokens(request)
